package vendortest

import (
	"net/http"
	"net/http/httptest"
)

// InMemory returns a RoundTripper that calls h in the calling goroutine,
// without a listener: a fake behind it works inside a testing/synctest
// bubble, whose clock real sockets would keep from moving.
func InMemory(h http.Handler) http.RoundTripper { return inMemory{h} }

type inMemory struct{ h http.Handler }

func (t inMemory) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	sr := r.Clone(r.Context())
	sr.RequestURI = r.URL.RequestURI()
	sr.RemoteAddr = "192.0.2.1:40000"
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, sr)
	if r.Body != nil {
		r.Body.Close()
	}
	// A handler that gave up because the client went away answers nothing
	// the client could read.
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	res := rec.Result()
	res.Request = r
	return res, nil
}

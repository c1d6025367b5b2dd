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

// Endpoint is where a fake is reached, a loopback listener or (for tests
// under testing/synctest) the calling goroutine, and how it is closed.
// Fakes embed it for URL, Client and Close.
type Endpoint struct {
	srv    *httptest.Server // nil in memory
	url    string
	client *http.Client
	rec    *Recorder
}

// Listen serves h on a loopback address; cleanup (a testing.TB, or nil)
// closes it when the test ends.
func Listen(cleanup Cleanup, h http.Handler, rec *Recorder) Endpoint {
	srv := Serve(cleanup, h, rec)
	return Endpoint{srv: srv, url: srv.URL, client: srv.Client(), rec: rec}
}

// InMemoryAt reaches h without a listener, through Client; URL reports
// url.
func InMemoryAt(cleanup Cleanup, h http.Handler, rec *Recorder, url string) Endpoint {
	e := Endpoint{url: url, client: &http.Client{Transport: InMemory(h)}, rec: rec}
	if cleanup != nil {
		cleanup.Cleanup(e.Close)
	}
	return e
}

// URL is the fake's base URL.
func (e *Endpoint) URL() string { return e.url }

// Client returns an HTTP client that reaches the fake.
func (e *Endpoint) Client() *http.Client { return e.client }

// Close stops the fake.
func (e *Endpoint) Close() {
	e.rec.Close()
	if e.srv != nil {
		e.srv.Close()
	}
}

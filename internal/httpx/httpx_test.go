package httpx_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-zt/vigil/internal/httpx"
)

func TestParseBase(t *testing.T) {
	for _, tc := range []struct {
		name, raw, want, err string
	}{
		{"https", "https://example.okta.com", "https://example.okta.com", ""},
		{"trailing slash dropped", "https://graph.microsoft.com/", "https://graph.microsoft.com", ""},
		{"path kept", "https://example.com/tenant/", "https://example.com/tenant", ""},
		{"http to 127.0.0.1", "http://127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{"http to ::1", "http://[::1]:8080", "http://[::1]:8080", ""},
		{"http to localhost", "http://localhost", "http://localhost", ""},
		{"http elsewhere", "http://example.com", "", "plain http only for loopback addresses"},
		{"http to a private address", "http://10.0.0.1", "", "plain http only for loopback addresses"},
		{"other scheme", "ftp://example.com", "", `unsupported scheme "ftp"`},
		{"credentials", "https://admin:SECRET@example.com", "", "want scheme://host with no credentials, query or fragment"},
		{"query", "https://example.com?token=SECRET", "", "want scheme://host with no credentials, query or fragment"},
		{"fragment", "https://example.com#SECRET", "", "want scheme://host with no credentials, query or fragment"},
		{"no host", "https:///x", "", "want scheme://host with no credentials, query or fragment"},
		{"empty", "", "", "want scheme://host with no credentials, query or fragment"},
		{"not a url", "https://SECRET\x7f.com", "", "not a url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := httpx.ParseBase(tc.raw)
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			if diff := cmp.Diff(tc.err, msg); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("base (-want +got):\n%s", diff)
			}
			if strings.Contains(msg, "SECRET") {
				t.Errorf("error %q quotes the url", msg)
			}
		})
	}
	if _, err := httpx.ParseBase("http://example.com"); !errors.Is(err, httpx.ErrPlainHTTP) {
		t.Errorf("plain http to a remote host: %v, want ErrPlainHTTP", err)
	}
}

func TestNoRedirects(t *testing.T) {
	followed := false
	mux := http.NewServeMux()
	mux.HandleFunc("/from", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/to", http.StatusFound)
	})
	mux.HandleFunc("/to", func(http.ResponseWriter, *http.Request) { followed = true })
	srv := httptest.NewTLSServer(mux) // the TLS transport must survive the copy
	defer srv.Close()

	orig := srv.Client()
	c := httpx.NoRedirects(orig)
	resp, err := c.Get(srv.URL + "/from")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/to" || followed {
		t.Errorf("got %d to %q (followed %v), want the 302 itself", resp.StatusCode, resp.Header.Get("Location"), followed)
	}
	if orig.CheckRedirect != nil {
		t.Error("the caller's client was changed")
	}

	if httpx.NoRedirects(nil).CheckRedirect == nil {
		t.Error("a nil client gave a client that follows redirects")
	}
}

func TestTransportError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	target := srv.URL + "/services/SECRET?token=SECRET"
	srv.Close() // nothing listens any more: the call fails in the transport

	_, err := http.Get(target)
	if err == nil || !strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("net/http's error %v should hold the url for this test to mean anything", err)
	}
	got := httpx.TransportError(err)
	if strings.Contains(got.Error(), "SECRET") || strings.Contains(got.Error(), srv.URL) {
		t.Errorf("TransportError kept the url: %v", got)
	}
	other := errors.New("plain")
	if httpx.TransportError(other) != other {
		t.Error("an error without a url was changed")
	}
}

func TestDo(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/busy", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":"busy"}`)
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, httpx.MaxBody+1000))
	})
	// broken declares more than it sends and drops the connection.
	broken := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(status)
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
	}
	mux.Handle("/broken-ok", broken(http.StatusOK))
	mux.Handle("/broken-fail", broken(http.StatusBadGateway))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) (int, http.Header, []byte, error) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+path+"?token=SECRET", nil)
		if err != nil {
			t.Fatal(err)
		}
		return httpx.Do(srv.Client(), req)
	}

	t.Run("failed answer", func(t *testing.T) {
		status, h, body, err := get("/busy")
		if err != nil || status != http.StatusServiceUnavailable || h.Get("Retry-After") != "7" || string(body) != `{"error":"busy"}` {
			t.Errorf("got %d %v %q %v", status, h, body, err)
		}
	})
	t.Run("body bounded", func(t *testing.T) {
		status, _, body, err := get("/huge")
		if err != nil || status != http.StatusOK || len(body) != httpx.MaxBody {
			t.Errorf("got %d, %d bytes, %v; want 200 and %d bytes", status, len(body), err, httpx.MaxBody)
		}
	})
	t.Run("success cut short", func(t *testing.T) {
		_, _, _, err := get("/broken-ok")
		if err == nil || !strings.HasPrefix(err.Error(), "reading response: ") || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("got %v, want a reading error without the url", err)
		}
	})
	t.Run("failure cut short", func(t *testing.T) {
		status, _, body, err := get("/broken-fail")
		if err != nil || status != http.StatusBadGateway || string(body) != "partial" {
			t.Errorf("got %d %q %v, want 502 with the partial body", status, body, err)
		}
	})
}

func TestSend(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-r.Context().Done()
			return
		}
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Method+" "+r.Header.Get("X-Test")+" "+string(b))
	}))
	defer srv.Close()

	status, _, body, err := httpx.Send(context.Background(), srv.Client(), time.Second, http.MethodPost, srv.URL, strings.NewReader("payload"), func(r *http.Request) {
		r.Header.Set("X-Test", "prepared")
	})
	if err != nil || status != http.StatusOK || string(body) != "POST prepared payload" {
		t.Errorf("got %d %q %v", status, body, err)
	}

	start := time.Now()
	_, _, _, err = httpx.Send(context.Background(), srv.Client(), 50*time.Millisecond, http.MethodGet, srv.URL+"/slow?token=SECRET", nil, func(*http.Request) {})
	if !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("slow answer: %v, want a deadline error without the url", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout not applied: took %s", d)
	}

	if _, _, _, err := httpx.Send(context.Background(), srv.Client(), time.Second, "BAD METHOD", srv.URL, nil, func(*http.Request) { t.Error("prepare called for a request never built") }); err == nil {
		t.Error("an invalid method was sent")
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	for _, tc := range []struct {
		name, value string
		want        time.Duration
	}{
		{"absent", "", 0},
		{"seconds", "12", 12 * time.Second},
		{"seconds with spaces", " 7 ", 7 * time.Second},
		{"zero", "0", 0},
		{"negative", "-3", 0},
		{"capped", "99999999999", httpx.MaxWait},
		{"negative beyond a duration", "-99999999999999", 0},
		{"too big for an int", "99999999999999999999", 0},
		{"http date", date(30 * time.Second), 30 * time.Second},
		{"http date past", date(-time.Minute), 0},
		{"http date far", date(48 * time.Hour), httpx.MaxWait},
		{"garbage", "soon", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.value != "" {
				h.Set("Retry-After", tc.value)
			}
			if diff := cmp.Diff(tc.want, httpx.RetryAfter(h, now)); diff != "" {
				t.Errorf("wait (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"5", "-9", "99999999999999999999", "Sun, 01 Mar 2026 12:00:30 GMT", "soon"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := httpx.RetryAfter(http.Header{"Retry-After": {v}}, now); d < 0 || d > httpx.MaxWait {
			t.Errorf("Retry-After %q: wait %s out of bounds", v, d)
		}
	})
}

func TestCheckTarget(t *testing.T) {
	for _, tc := range []struct {
		name, target, err string
	}{
		{"id", "00u1abc", ""},
		{"email", "ada@example.com", ""},
		{"512 bytes", strings.Repeat("a", 512), ""},
		{"non-ascii", "zoë@example.com", ""},
		{"empty", "", "empty target"},
		{"513 bytes", strings.Repeat("a", 513), "target longer than 512 bytes"},
		{"newline", "ada\n@example.com", `target "ada\n@example.com" holds a control character`},
		{"delete", "ada\x7f", `target "ada\x7f" holds a control character`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := ""
			if err := httpx.CheckTarget(tc.target); err != nil {
				msg = err.Error()
			}
			if diff := cmp.Diff(tc.err, msg); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClean(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		n        int
		want     string
	}{
		{"short", "Not found", 40, "Not found"},
		{"trimmed", "  Not found\n", 40, "Not found"},
		{"control characters", "a\r\nb\tc\x7fd", 40, "a  b c d"},
		{"cut", "abcdef", 3, "abc…"},
		{"exactly n", "abc", 3, "abc"},
		{"cut before a two-byte rune", "héllo", 2, "h…"},
		{"cut after a two-byte rune", "héllo", 3, "hé…"},
		{"cut inside a four-byte rune", "a😀b", 3, "a…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, httpx.Clean(tc.in, tc.n)); diff != "" {
				t.Errorf("Clean(%q, %d) (-want +got):\n%s", tc.in, tc.n, diff)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	// Truncate keeps what it is given apart from the cut.
	if got, want := httpx.Truncate(" a\nb ", 10), " a\nb "; got != want {
		t.Errorf("Truncate kept %q, want %q", got, want)
	}
	s := "añ😀é漢z"
	for n := range len(s) + 1 {
		got := httpx.Truncate(s, n)
		if !utf8.ValidString(got) || len(strings.TrimSuffix(got, "…")) > n || !strings.HasPrefix(s, strings.TrimSuffix(got, "…")) {
			t.Errorf("Truncate(%q, %d) = %q", s, n, got)
		}
	}
}

func FuzzClean(f *testing.F) {
	f.Add("héllo wörld", 4)
	f.Add("a\x00b\xffc", 2)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 1000 {
			return
		}
		got := httpx.Clean(s, n)
		if len(got) > n+len("…") {
			t.Errorf("Clean(%q, %d) = %q: too long", s, n, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Errorf("Clean(%q, %d) = %q: not utf-8", s, n, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f {
				t.Errorf("Clean(%q, %d) = %q: control character", s, n, got)
			}
		}
	})
}

func TestFailureAndDetail(t *testing.T) {
	for _, tc := range []struct {
		status        int
		code, message string
		want          string
	}{
		{400, "E0000001", "Api validation failed", "rejected (400 E0000001: Api validation failed)"},
		{401, "", "", "authentication failed (401)"},
		{403, "Authorization_RequestDenied", "", "permission denied (403 Authorization_RequestDenied)"},
		{404, "", "Not found", "user not found (404: Not found)"},
		{409, "", "", "failed (409)"},
		{429, "", "", "rate limited (429)"},
		{503, "", "", "server error (503)"},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			got := httpx.Failure(tc.status) + " (" + httpx.Detail(tc.status, tc.code, tc.message) + ")"
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/vendortest"
	"github.com/vigil-zt/vigil/internal/vendortest/oktaadmin"
)

// buildVigil builds the binary once per test run.
func buildVigil(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vigil")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/vigil")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is `vigil serve` in a child process, killable with SIGKILL.
type process struct {
	cmd    *exec.Cmd
	url    string
	stderr *lockedBuffer
}

func startProcess(t *testing.T, bin, db, cfg string, env ...string) *process {
	t.Helper()
	p := &process{stderr: &lockedBuffer{}}
	p.cmd = exec.Command(bin, "serve", "--db", db, "--config", cfg, "--listen", "127.0.0.1:0")
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second) // guards a hang
	for {
		if m := servingRE.FindStringSubmatch(p.stderr.String()); m != nil {
			p.url = m[1]
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("vigil serve did not start: %s", p.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *process) get(t *testing.T, path, token string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", p.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

// TestOutboxSurvivesKill9: actions are in flight to a slow Okta when the
// service is killed with SIGKILL; after a restart every action is delivered,
// and each user's sessions are cleared exactly once (a resend carries the
// same Idempotency-Key).
func TestOutboxSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it")
	}
	bin := buildVigil(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "vigil.db")
	okta := oktaadmin.New(t)
	users := []string{"ada@example.com", "bo@example.com", "cy@example.com", "di@example.com", "ed@example.com"}
	ids := map[string]string{}
	for _, u := range users {
		ids[u] = okta.AddUser(oktaadmin.User{Login: u, Sessions: 2}).ID
	}
	okta.SetDelay(3 * time.Second) // every call hangs: the kill lands mid-dispatch
	cfg := filepath.Join(dir, "vigil.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("connectors:\n  - name: okta\n    type: okta\n    url: %s\n    token: {env: CRASH_OKTA_TOKEN}\n", okta.URL())), 0o600)
	env := "CRASH_OKTA_TOKEN=" + oktaadmin.DefaultAPIToken
	responder := newToken(t, db, "soc", "responder")

	p := startProcess(t, bin, db, cfg, env)
	for _, u := range users {
		req, _ := http.NewRequest("POST", p.url+"/v1/respond/kill-sessions", bytes.NewReader([]byte(`{"identity":"`+u+`"}`)))
		req.Header.Set("Authorization", "Bearer "+responder)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 202 {
			t.Fatalf("kill-sessions %s: %v %v", u, err, resp)
		}
		resp.Body.Close()
	}
	// Wait until every action is in flight, then kill the service.
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(string(p.get(t, "/v1/actions?state=sending", responder)), `"id"`) < len(users) {
		if time.Now().After(deadline) {
			t.Fatalf("actions never in flight: %s", p.get(t, "/v1/actions", responder))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	if n := okta.Deliveries(vendortest.KindClearSessions, ""); n != 0 {
		t.Fatalf("%d deliveries completed before the kill; the test needs them in flight", n)
	}

	okta.SetDelay(0)
	p = startProcess(t, bin, db, cfg, env)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, u := range users {
		if err := okta.WaitDeliveries(ctx, vendortest.KindClearSessions, ids[u], 1); err != nil {
			t.Fatalf("%s never delivered after the restart: %v\n%s", u, err, p.stderr.String())
		}
	}
	// Every action done, each delivered exactly once.
	deadline = time.Now().Add(20 * time.Second)
	for {
		var out struct {
			Actions []struct {
				State    string `json:"state"`
				Attempts int    `json:"attempts"`
			} `json:"actions"`
		}
		json.Unmarshal(p.get(t, "/v1/actions", responder), &out)
		done := 0
		for _, a := range out.Actions {
			if a.State == "done" {
				done++
			}
		}
		if done == len(users) && len(out.Actions) == len(users) {
			for _, a := range out.Actions {
				if a.Attempts != 2 {
					t.Errorf("attempts %d, want 2 (the interrupted send and the resend)", a.Attempts)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("actions %+v", out.Actions)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, u := range users {
		if n := okta.Deliveries(vendortest.KindClearSessions, ids[u]); n != 1 {
			t.Errorf("%s: %d deliveries, want exactly 1", u, n)
		}
	}
}

package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/httpx"
	"github.com/vigil-zt/vigil/internal/respond"
)

// refreshBefore is how long before expiry a cached token is replaced, so
// a token never expires between being read and being used.
const refreshBefore = 5 * time.Minute

// accessToken returns the cached token or fetches one. Concurrent callers
// wait for a single fetch.
func (c *Connector) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.cfg.Now().Before(c.expires) {
		return c.token, nil
	}
	c.token = ""
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret},
		"scope":         {"https://graph.microsoft.com/.default"},
	}
	status, h, body, err := c.send(ctx, http.MethodPost, c.tokenURL, []byte(form.Encode()), func(req *http.Request) {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
	})
	if err != nil {
		return "", respond.Retryable(fmt.Errorf("token: %w", err), 0)
	}
	var tr struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
		Error       string          `json:"error"`
		Codes       []int           `json:"error_codes"`
	}
	_ = json.Unmarshal(body, &tr)
	if status != http.StatusOK {
		what := httpx.Clean(tr.Error, 40)
		if what == "" {
			what = "error"
		}
		if len(tr.Codes) > 0 {
			what += fmt.Sprintf(" AADSTS%d", tr.Codes[0])
		}
		if status == http.StatusTooManyRequests || status >= 500 {
			return "", respond.Retryable(fmt.Errorf("token endpoint unavailable (%d %s)", status, what), httpx.RetryAfter(h, c.cfg.Now()))
		}
		return "", fmt.Errorf("token request refused (%d %s)", status, what)
	}
	if tr.AccessToken == "" || strings.ContainsAny(tr.AccessToken, "\r\n ") {
		return "", respond.Retryable(errors.New("token: answer without a usable access token"), 0)
	}
	life := seconds(tr.ExpiresIn)
	if life <= 0 {
		life = time.Hour
	}
	c.token = tr.AccessToken
	c.expires = c.cfg.Now().Add(life - min(refreshBefore, life/2))
	return c.token, nil
}

// dropToken forgets tok after Graph refused it, unless another call
// already replaced it.
func (c *Connector) dropToken(tok string) {
	c.mu.Lock()
	if c.token == tok {
		c.token = ""
	}
	c.mu.Unlock()
}

// seconds reads expires_in, a number (v2.0) or a numeric string (v1.0).
func seconds(raw json.RawMessage) time.Duration {
	s := strings.Trim(string(raw), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > 7*24*3600 {
		return 0
	}
	return time.Duration(n) * time.Second
}

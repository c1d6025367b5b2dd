package awsiam_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/respond/awsiam"
)

type answer struct {
	status int
	body   []byte
}

func (a answer) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: a.status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(a.body))}, nil
}

func FuzzAnswers(f *testing.F) {
	f.Add(uint16(404), []byte(`<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>m</Message></Error></ErrorResponse>`), "AKIABOBKEY0000000001", "bob")
	f.Add(uint16(400), []byte(`<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>`), "arn:aws:iam::1:role/a/b", "")
	f.Add(uint16(500), []byte(`<<<`), "", "\x00")
	f.Fuzz(func(t *testing.T, status uint16, body []byte, target, user string) {
		if status < 100 || status > 999 {
			return
		}
		c, err := awsiam.New(awsiam.Config{Credentials: awsiam.Credentials{AccessKeyID: "AKIAFUZZ", SecretAccessKey: "FUZZ-SECRET"}}, &http.Client{Transport: answer{int(status), body}})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []respond.Action{
			{ID: "a", Kind: respond.KindDeactivateKey, Target: target, Params: map[string]string{awsiam.ParamUser: user}},
			{ID: "b", Kind: respond.KindRevokeRoleTokens, Target: target},
		} {
			_, err := c.Do(context.Background(), a)
			if err != nil && strings.Contains(err.Error(), "FUZZ-SECRET") {
				t.Fatalf("error echoes the secret: %v", err)
			}
		}
	})
}

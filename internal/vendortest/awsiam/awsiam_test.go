package awsiam_test

import (
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-zt/vigil/internal/vendortest/awsiam"
)

func TestUnsignedRequestsRefused(t *testing.T) {
	srv := awsiam.New(t)
	srv.AddAccessKey("bob", "AKIABOBKEY0000000001")
	for _, auth := range []string{"", "AWS4-HMAC-SHA256 Credential=AKIAVIGILTESTCALLER1/20260301/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64)} {
		req, _ := http.NewRequest("POST", srv.URL()+"/", strings.NewReader("Action=UpdateAccessKey&UserName=bob&AccessKeyId=AKIABOBKEY0000000001&Status=Inactive&Version=2010-05-08"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", auth)
			req.Header.Set("X-Amz-Date", "20260301T120000Z")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var er struct {
			Error     struct{ Type, Code, Message string }
			RequestID string `xml:"RequestId"`
		}
		if err := xml.Unmarshal(b, &er); err != nil {
			t.Fatalf("not xml: %s", b)
		}
		if resp.StatusCode != 403 || er.Error.Type != "Sender" || er.Error.Code == "" || er.RequestID == "" {
			t.Errorf("status %d, error %+v", resp.StatusCode, er)
		}
	}
	if k, _ := srv.AccessKey("AKIABOBKEY0000000001"); k.Status != "Active" {
		t.Errorf("unsigned request changed the key: %+v", k)
	}
}

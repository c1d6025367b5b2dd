// Package cloudtrail decodes AWS CloudTrail records (elements of delivery
// files once the {"Records":[...]} envelope is unwrapped, one record per
// line from CloudTrail Lake or SIEM exports, and EventBridge events whose
// "detail" holds the record) into normalized events.
//
// Field sources: time ← eventTime (Panther exports: p_event_time;
// EventBridge: the envelope's time when the detail lacks one); vendor id ←
// eventID; type ← eventName (insights: insightDetails.insightType); log ←
// eventCategory / managementEvent ("management", "data", "insight",
// "network"); tenant ← recipientAccountId; region ← awsRegion; request id ←
// requestID; actor ← userIdentity by type (see actor); session ←
// userIdentity.accessKeyId and sessionContext; network ← sourceIPAddress
// (service names such as "ec2.amazonaws.com" go to Network.Domain),
// vpcEndpointId; device ← userAgent; outcome ← errorCode and errorMessage
// (ConsoleLogin: responseElements.ConsoleLogin); auth ←
// additionalEventData.MFAUsed; resource ← eventSource and the request
// parameters of the call (bucket and key, secret, table, parameter, policy,
// role, access key); targets ← the IAM user, role and group a call acted on.
package cloudtrail

import (
	"bytes"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/field"
	"github.com/vigil-zt/vigil/internal/useragent"
)

// Decoder decodes CloudTrail records. Not safe for concurrent use.
type Decoder struct {
	s   field.Strings
	ua  useragent.Cache
	buf []byte // scratch for joining before interning
}

// New returns a Decoder.
func New() *Decoder { return &Decoder{} }

// Source returns event.SourceCloudTrail.
func (d *Decoder) Source() event.Source { return event.SourceCloudTrail }

// Detect reports whether v is a CloudTrail record: it has an eventVersion,
// or an eventName with an eventSource, awsRegion, userIdentity or requestID,
// or it is an EventBridge "… via CloudTrail" event, or a Panther export
// labelled AWS.CloudTrail. Okta LogEvents (eventType, no eventName) match
// none of these. Recognizing a damaged record (one without its eventTime,
// say) lets its quarantine reason name the missing field.
func (d *Decoder) Detect(v *fastjson.Value) bool {
	if !field.IsObject(v) {
		return false
	}
	if envelope(v) != nil {
		return true
	}
	if len(field.Bytes(v, "eventVersion")) > 0 {
		return true
	}
	if len(field.Bytes(v, "eventName")) > 0 && (len(field.Bytes(v, "eventSource")) > 0 ||
		len(field.Bytes(v, "awsRegion")) > 0 || field.IsObject(field.Get(v, "userIdentity")) ||
		len(field.Bytes(v, "requestID")) > 0) {
		return true
	}
	return bytes.HasPrefix(field.Bytes(v, "p_log_type"), []byte("AWS.CloudTrail"))
}

// envelope returns the record inside an EventBridge event ("detail-type":
// "AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail", …),
// or nil when v is not one.
func envelope(v *fastjson.Value) *fastjson.Value {
	if !bytes.HasSuffix(field.Bytes(v, "detail-type"), []byte("via CloudTrail")) {
		return nil
	}
	if det := field.Get(v, "detail"); field.IsObject(det) {
		return det
	}
	return nil
}

// Decode appends the event of one CloudTrail record to dst.
func (d *Decoder) Decode(dst []event.Event, v *fastjson.Value) ([]event.Event, error) {
	env := envelope(v)
	pre := "" // prefix of field paths in errors
	if env != nil {
		env, v = v, env
		pre = "detail."
	}
	var e event.Event
	e.Source = event.SourceCloudTrail

	insight := field.Get(v, "insightDetails")
	name := field.Bytes(v, "eventName")
	if len(name) == 0 && field.IsObject(insight) {
		name = field.Bytes(insight, "insightType")
	}
	if len(name) == 0 {
		return dst, field.Missing(pre + "eventName")
	}
	e.VendorType = d.s.Get(name)

	// Errors name the field as it sits in the record given to Decode.
	timeAt := func(k string) (time.Time, error) {
		if env != nil {
			return field.Time(env, "detail", k)
		}
		return field.Time(v, k)
	}
	var err error
	tpath := pre + "eventTime"
	switch {
	case field.Has(v, "eventTime"):
		e.Time, err = timeAt("eventTime")
	case field.Has(v, "p_event_time"):
		tpath = pre + "p_event_time"
		e.Time, err = timeAt("p_event_time")
	case env != nil && field.Has(env, "time"):
		tpath = "time"
		e.Time, err = field.Time(env, "time")
	default:
		err = field.Missing(tpath)
	}
	if err != nil {
		return dst, err
	}

	// EventBridge repeats the id, account and region on the envelope;
	// field.Bytes of a nil envelope is nil.
	ids := d.s.Copy(field.First(field.Bytes(v, "eventID"), field.Bytes(env, "id")), field.Bytes(v, "requestID"))
	e.VendorID, e.RequestID = ids[0], ids[1]
	e.Tenant = d.s.Get(field.Bytes(v, "recipientAccountId"))
	e.Region = d.s.Get(field.Bytes(v, "awsRegion"))
	if env != nil {
		if e.Tenant == "" {
			e.Tenant = d.s.Get(field.Bytes(env, "account"))
		}
		if e.Region == "" {
			e.Region = d.s.Get(field.Bytes(env, "region"))
		}
	}
	src := d.s.Get(field.Bytes(v, "eventSource"))
	e.Resource.Service = src

	if isInsight(v, insight) {
		d.insight(&e, insight)
		return append(dst, e), nil
	}

	k, known := lookup(src, e.VendorType)
	if known {
		e.Category, e.Activity = k.c, k.a
	} else {
		e.Category, e.Activity = event.CategoryAPIActivity, verb(e.VendorType)
	}
	e.Log = logName(v, k.data)

	ui := field.Get(v, "userIdentity")
	d.actor(&e, ui, v)
	d.session(&e, ui)

	ip := field.Bytes(v, "sourceIPAddress")
	e.Network.IP = d.s.Addr(ip)
	if !e.Network.IP.IsValid() && len(ip) > 0 {
		// A service ("ec2.amazonaws.com") or "AWS Internal" made the call.
		e.Network.Domain = d.s.Get(ip)
	}
	e.Network.Zone = d.s.Get(field.Bytes(v, "vpcEndpointId"))

	e.Device.UserAgent = d.s.Get(field.Bytes(v, "userAgent"))
	fam := d.ua.Parse(e.Device.UserAgent)
	e.Device.Browser, e.Device.OS = fam.Browser, fam.OS

	if code := field.Bytes(v, "errorCode"); len(code) > 0 {
		e.Outcome = event.Outcome{Result: event.ResultFailure, Code: d.s.Get(code), Reason: d.s.Get(field.Bytes(v, "errorMessage"))}
	} else {
		e.Outcome.Result = event.ResultSuccess
	}

	req := field.Get(v, "requestParameters")
	resp := field.Get(v, "responseElements")
	switch e.VendorType {
	case "ConsoleLogin":
		d.consoleLogin(&e, v, resp)
	case "AssumeRoleWithSAML":
		e.Auth.Protocol = "saml"
	case "AssumeRoleWithWebIdentity":
		e.Auth.Protocol = "oidc"
	}
	svc := k.svc
	if src != "" {
		svc = serviceName(src)
	}
	d.resource(&e, svc, req, resp)
	if e.Resource.Type == "" {
		d.listedResource(&e, v)
	}
	return append(dst, e), nil
}

func isInsight(v, insight *fastjson.Value) bool {
	return string(field.Bytes(v, "eventType")) == "AwsCloudTrailInsight" ||
		string(field.Bytes(v, "eventCategory")) == "Insight" ||
		(field.IsObject(insight) && len(field.Bytes(v, "eventName")) == 0)
}

// insight fills an Insights event: CloudTrail's own notice that the rate
// of a call or of its errors left its baseline. It names the call but is
// not one, so it is classified api_activity/other.
func (d *Decoder) insight(e *event.Event, in *fastjson.Value) {
	e.Log = "insight"
	e.Category, e.Activity = event.CategoryAPIActivity, event.ActivityOther
	if s := field.Bytes(in, "eventSource"); len(s) > 0 {
		e.Resource.Service = d.s.Get(s)
	}
	e.Resource.Type = "api"
	e.Resource.Name = d.s.Get(field.Bytes(in, "eventName"))
	d.buf = append(d.buf[:0], field.Bytes(in, "state")...)
	if len(d.buf) > 0 && e.Resource.Name != "" {
		d.buf = append(d.buf, " of "...)
	}
	d.buf = append(d.buf, e.Resource.Name...)
	e.Message = d.s.Get(d.buf)
}

// logName says which CloudTrail log the record belongs to. Records from
// before eventVersion 1.08 carry neither eventCategory nor managementEvent;
// for them the call decides (object and item calls are data events).
func logName(v *fastjson.Value, dataCall bool) string {
	switch string(field.Bytes(v, "eventCategory")) {
	case "Data":
		return "data"
	case "NetworkActivity":
		return "network"
	case "Insight":
		return "insight"
	case "Management":
		return "management"
	}
	if m, ok := field.Bool(v, "managementEvent"); ok {
		if m {
			return "management"
		}
		return "data"
	}
	if dataCall {
		return "data"
	}
	return "management"
}

// actor fills e.Actor from userIdentity. IDs are chosen so that a person
// keeps one identity across sessions and a machine role one baseline
// across its random session names:
//
//   - IAMUser: the lower-cased userName (kind human until the inventory
//     says otherwise);
//   - Root: "root@<account>", kind admin;
//   - AssumedRole: the lower-cased session name when the role is an IAM
//     Identity Center role (AWSReservedSSO_…) or the session name is an
//     e-mail address (federated people), kind human; otherwise
//     "role/<role name>", kind service;
//   - FederatedUser: the federated user name; AWSService: invokedBy;
//   - IdentityCenterUser, SAMLUser, WebIdentityUser, Unknown: userName
//     (kind human),
//     falling back to the identity store user id or principalId (web
//     identity subjects keep their case);
//   - AWSAccount (a caller in another account that CloudTrail does not
//     name): "account/<account>".
func (d *Decoder) actor(e *event.Event, ui, rec *fastjson.Value) {
	if !field.IsObject(ui) {
		return
	}
	p := &e.Actor
	p.Type = d.s.Get(field.Bytes(ui, "type"))
	pid := field.Bytes(ui, "principalId")
	p.VendorID = d.s.Get(pid)
	acct := field.Bytes(ui, "accountId")
	if len(acct) > 0 && string(acct) != e.Tenant {
		p.Account = d.s.Get(acct)
	}
	user := field.Bytes(ui, "userName")
	arn := field.Bytes(ui, "arn")

	switch p.Type {
	case "IAMUser":
		n := field.First(user, afterPrefix(arn, ":user/"), pid)
		p.ID, p.Name, p.Kind = d.s.Lower(lastSegment(n)), d.s.Get(lastSegment(n)), event.KindHuman
	case "Root":
		if len(acct) == 0 {
			acct = []byte(e.Tenant)
		}
		p.ID, p.Name, p.Kind = d.join("root@", acct), "root", event.KindAdmin
		if len(acct) == 0 {
			p.ID = "root"
		}
	case "AssumedRole":
		role, sess := assumedRole(arn)
		if r := field.Bytes(ui, "sessionContext", "sessionIssuer", "userName"); len(r) > 0 {
			role = r
		}
		if len(sess) == 0 {
			if i := bytes.IndexByte(pid, ':'); i >= 0 {
				sess = pid[i+1:]
			}
		}
		switch {
		case len(sess) > 0 && (bytes.HasPrefix(role, []byte("AWSReservedSSO_")) || bytes.IndexByte(sess, '@') >= 0):
			p.ID, p.Name, p.Kind = d.s.Lower(sess), d.s.Get(sess), event.KindHuman
		case len(role) > 0:
			p.ID, p.Name, p.Kind = d.join("role/", role), d.s.Get(field.First(sess, role)), event.KindService
		default:
			p.ID, p.Kind = d.s.Lower(field.First(pid, arn)), event.KindService
		}
	case "FederatedUser":
		n := afterPrefix(arn, ":federated-user/")
		if len(n) == 0 {
			if i := bytes.IndexByte(pid, ':'); i >= 0 {
				n = pid[i+1:]
			}
		}
		n = field.First(n, user, pid)
		p.ID, p.Name, p.Kind = d.s.Lower(n), d.s.Get(n), event.KindHuman
	case "AWSService":
		n := field.First(field.Bytes(ui, "invokedBy"), pid)
		p.ID, p.Name, p.Kind = d.s.Lower(n), d.s.Get(n), event.KindService
	case "IdentityCenterUser", "SAMLUser":
		n := field.First(user, field.Bytes(rec, "additionalEventData", "UserName"),
			field.Bytes(ui, "onBehalfOf", "userId"), pid)
		p.ID, p.Name, p.Kind = d.s.Lower(n), d.s.Get(n), event.KindHuman
	case "WebIdentityUser":
		// The provider's subject is case-sensitive in principle; canonical
		// ids are lower-case anyway (Name keeps the original), and subjects
		// differing only in case do not occur in practice.
		n := field.First(user, pid)
		p.ID, p.Name, p.Kind = d.s.Lower(n), d.s.Get(n), event.KindHuman
	case "AWSAccount":
		if len(acct) > 0 {
			p.ID = d.join("account/", acct)
		} else {
			p.ID = d.s.Lower(pid)
		}
	default: // Unknown (Identity Center sign-in, some console events) and untyped
		n := field.First(user, pid, arn)
		p.ID, p.Name = d.s.Lower(n), d.s.Get(n)
		if len(user) > 0 { // a directory user name: a person signing in
			p.Kind = event.KindHuman
		}
	}
}

// assumedRole splits "arn:aws:sts::123:assumed-role/Role/Session".
func assumedRole(arn []byte) (role, sess []byte) {
	rest := afterPrefix(arn, ":assumed-role/")
	if i := bytes.IndexByte(rest, '/'); i >= 0 {
		return rest[:i], rest[i+1:]
	}
	return rest, nil
}

func (d *Decoder) session(e *event.Event, ui *fastjson.Value) {
	if !field.IsObject(ui) {
		return
	}
	e.Session.AccessKeyID = d.s.Get(field.Bytes(ui, "accessKeyId"))
	sc := field.Get(ui, "sessionContext")
	if !field.IsObject(sc) {
		return
	}
	e.Session.Issuer = d.s.Get(field.Bytes(sc, "sessionIssuer", "arn"))
	attrs := field.Get(sc, "attributes")
	if b := field.Bytes(attrs, "creationDate"); len(b) > 0 {
		if t, err := field.ParseTime(b); err == nil {
			e.Session.CreatedAt = t
		}
	}
	e.Session.MFA = field.BoolPtr(attrs, "mfaAuthenticated")
}

// consoleLogin reads the result and MFA use of a console sign-in, which
// CloudTrail reports in responseElements and additionalEventData rather
// than errorCode.
func (d *Decoder) consoleLogin(e *event.Event, v, resp *fastjson.Value) {
	res := field.Bytes(resp, "ConsoleLogin")
	switch string(res) {
	case "Success":
		if e.Outcome.Result != event.ResultFailure {
			e.Outcome.Code = "Success"
		}
	case "Failure":
		e.Outcome.Result = event.ResultFailure
		e.Outcome.Code = "Failure"
		e.Outcome.Reason = d.s.Get(field.Bytes(v, "errorMessage"))
	}
	switch string(field.Bytes(v, "additionalEventData", "MFAUsed")) {
	case "Yes":
		t := true
		e.Auth.MFA = &t
	case "No":
		f := false
		e.Auth.MFA = &f
	}
	if e.Actor.Type == "IAMUser" || e.Actor.Type == "Root" {
		e.Auth.Method = "password"
	}
	in := true
	e.Auth.Interactive = &in
}

// resource names what the call touched, from the request parameters of
// the services detectors look into, and the IAM principals it acted on.
// svc is the service ("s3"), taken from the call name when the record
// lacks eventSource.
func (d *Decoder) resource(e *event.Event, svc string, req, resp *fastjson.Value) {
	if !field.IsObject(req) && !field.IsObject(resp) {
		return
	}
	r := &e.Resource
	switch svc {
	case "s3":
		bucket := field.Bytes(req, "bucketName")
		if key := field.Bytes(req, "key"); len(key) > 0 {
			r.Type, r.Name, r.Container = "object", d.s.Get(key), d.s.Get(bucket)
		} else if len(bucket) > 0 {
			r.Type, r.Name = "bucket", d.s.Get(bucket)
		}
	case "secretsmanager":
		if id := field.Bytes(req, "secretId"); len(id) > 0 {
			r.Type, r.Name = "secret", d.s.Get(id)
		}
	case "dynamodb":
		if t := field.Bytes(req, "tableName"); len(t) > 0 {
			r.Type, r.Name = "table", d.s.Get(t)
		}
	case "ssm":
		n := field.Bytes(req, "name")
		if len(n) == 0 {
			n = field.Bytes(req, "names", "0")
		}
		if len(n) > 0 {
			r.Type, r.Name = "parameter", d.s.Get(n)
		}
		// A decrypted SecureString is a secret read.
		if dec, _ := field.Bool(req, "withDecryption"); dec && strings.HasPrefix(e.VendorType, "GetParameter") {
			e.Category, e.Activity = event.CategoryDataAccess, event.ActivityRead
		}
	case "kms":
		if k := field.Bytes(req, "keyId"); len(k) > 0 {
			r.Type, r.ID = "key", d.s.Get(k)
		}
	case "lambda":
		if f := field.Bytes(req, "functionName"); len(f) > 0 {
			r.Type, r.Name = "function", d.s.Get(f)
		}
	case "sts":
		if arn := field.Bytes(req, "roleArn"); len(arn) > 0 {
			r.Type, r.ID, r.Name = "role", d.s.Get(arn), d.s.Get(lastSegment(arn))
		}
		if k := field.Bytes(resp, "credentials", "accessKeyId"); len(k) > 0 {
			// The temporary key the call issued: the calls made with it
			// carry it as Session.AccessKeyID.
			e.Targets = append(e.Targets, event.Target{Type: "AccessKey", ID: d.s.Get(k),
				Name: d.s.Get(field.Bytes(resp, "assumedRoleUser", "arn"))})
		}
	case "iam":
		d.iam(e, req, resp)
	}
}

// iam names the user, role and group an IAM call acted on (Targets) and
// the key, policy or MFA device it created, changed or attached
// (Resource): a detector sees "AdministratorAccess" in Resource.Name and
// a key created for someone else in Targets.
func (d *Decoder) iam(e *event.Event, req, resp *fastjson.Value) {
	user := field.Bytes(req, "userName")
	if len(user) == 0 {
		user = field.Bytes(resp, "accessKey", "userName")
	}
	if len(user) > 0 {
		e.Targets = append(e.Targets, event.Target{Type: "User", ID: d.s.Lower(user), Name: d.s.Get(user)})
	}
	if role := field.Bytes(req, "roleName"); len(role) > 0 {
		e.Targets = append(e.Targets, event.Target{Type: "Role", ID: d.join("role/", role), Name: d.s.Get(role)})
	}
	if group := field.Bytes(req, "groupName"); len(group) > 0 {
		e.Targets = append(e.Targets, event.Target{Type: "Group", ID: d.s.Get(group), Name: d.s.Get(group)})
	}
	r := &e.Resource
	if k := field.First(field.Bytes(resp, "accessKey", "accessKeyId"), field.Bytes(req, "accessKeyId")); len(k) > 0 {
		r.Type, r.ID = "key", d.s.Get(k)
	} else if arn := field.Bytes(req, "policyArn"); len(arn) > 0 {
		r.Type, r.ID, r.Name = "policy", d.s.Get(arn), d.s.Get(lastSegment(arn))
	} else if n := field.Bytes(req, "policyName"); len(n) > 0 {
		r.Type, r.Name = "policy", d.s.Get(n)
	} else if sn := field.Bytes(req, "serialNumber"); len(sn) > 0 {
		r.Type, r.ID = "mfa_device", d.s.Get(sn)
	} else if n := field.Bytes(req, "virtualMFADeviceName"); len(n) > 0 {
		r.Type, r.Name = "mfa_device", d.s.Get(n)
	}
}

// listedResource falls back on CloudTrail's own resources list
// ([{"ARN":…,"type":"AWS::IAM::Role"}]) when the parameters named nothing.
func (d *Decoder) listedResource(e *event.Event, v *fastjson.Value) {
	for _, x := range field.Array(v, "resources") {
		arn := field.Bytes(x, "ARN")
		if len(arn) == 0 {
			continue
		}
		e.Resource.ID = d.s.Get(arn)
		if t := field.Bytes(x, "type"); len(t) > 0 {
			e.Resource.Type = d.s.Lower(lastSegmentSep(t, ':'))
		}
		return
	}
}

// join returns prefix+b, interned.
func (d *Decoder) join(prefix string, b []byte) string {
	// IAM names are unique without regard to case, and canonical ids are
	// lower-case.
	d.buf = field.AppendLower(append(d.buf[:0], prefix...), b)
	return d.s.Get(d.buf)
}

// afterPrefix returns what follows the first sep in b, or nil.
func afterPrefix(b []byte, sep string) []byte {
	if i := bytes.Index(b, []byte(sep)); i >= 0 {
		return b[i+len(sep):]
	}
	return nil
}

// lastSegment returns what follows the last '/' of an ARN or path.
func lastSegment(b []byte) []byte { return lastSegmentSep(b, '/') }

func lastSegmentSep(b []byte, sep byte) []byte {
	return b[bytes.LastIndexByte(b, sep)+1:]
}

// serviceName returns the service of an eventSource: "iam" for
// "iam.amazonaws.com".
func serviceName(src string) string {
	if i := strings.IndexByte(src, '.'); i >= 0 {
		return src[:i]
	}
	return src
}

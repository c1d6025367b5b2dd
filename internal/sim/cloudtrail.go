package sim

import (
	"net/netip"
	"strconv"
	"time"
)

// identKind is the kind of CloudTrail userIdentity.
type identKind uint8

const (
	idSSO      identKind = iota // AssumedRole AWSReservedSSO_<set>_<hex>/<login>
	idIAMUser                   // IAMUser (a person's legacy user or a machine's)
	idRole                      // AssumedRole <role>/<session> (a machine)
	idService                   // AWSService assuming a role
	idSSOUser                   // Unknown with userName: the IAM Identity Center portal
	idExternal                  // AWSAccount: a SaaS assuming a role from its account
)

// ctIdent is who signed a CloudTrail call, and with which credentials.
type ctIdent struct {
	kind    identKind
	acct    *Account
	person  *Person
	mach    *Machine
	ps      *permSet
	key     string // access key id
	sess    string // role session name
	created time.Time
	console bool   // credentials from a console sign-in
	service string // AWSService: invokedBy
}

// ctEv is one CloudTrail record.
type ctEv struct {
	api    *api
	who    *ctIdent
	region string
	ip     netip.Addr // the caller's address (invalid: who.service)
	ua     string
	vpce   string
	// Request parameters by api.params: bucket and key, secret, table,
	// user and policy, cluster and service, role and session.
	res, res2 string
	newKey    string // the access key a call created or issued
	errCode   string
}

func (e *ctEv) source() Source { return SourceCloudTrail }

func (e *ctEv) write(w *writer, t time.Time) ([]byte, string, string) {
	b, id := appendCloudTrail(w.buf[:0], w, e, t)
	w.buf = b
	return b, id, e.api.name
}

func (e *ctEv) account() *Account {
	if e.who.acct != nil {
		return e.who.acct
	}
	return acctProd
}

func appendCloudTrail(b []byte, w *writer, e *ctEv, t time.Time) ([]byte, string) {
	rng := w.rng
	acct := e.account()
	a := e.api
	t = t.UTC().Truncate(time.Second)
	b = append(b, `{"eventVersion":"`...)
	if a.data {
		b = append(b, "1.10"...)
	} else {
		b = append(b, "1.09"...)
	}
	b = append(b, `","userIdentity":`...)
	b = appendIdentity(b, e.who, acct)
	b = append(b, `,"eventTime":"`...)
	b = t.AppendFormat(b, time.RFC3339)
	b = append(b, `","eventSource":"`...)
	b = append(b, a.source...)
	b = append(b, `","eventName":"`...)
	b = append(b, a.name...)
	b = append(b, `","awsRegion":"`...)
	b = append(b, e.region...)
	b = append(b, `","sourceIPAddress":"`...)
	if e.ip.IsValid() {
		b = e.ip.AppendTo(b)
	} else {
		b = append(b, e.who.service...)
	}
	b = append(b, `","userAgent":`...)
	b = strconv.AppendQuote(b, e.ua)
	if e.errCode != "" {
		b = append(b, `,"errorCode":`...)
		b = strconv.AppendQuote(b, e.errCode)
		b = append(b, `,"errorMessage":"Access Denied"`...)
	}
	b = append(b, `,"requestParameters":`...)
	b = appendParams(b, e)
	b = append(b, `,"responseElements":`...)
	b = appendResponse(b, e, acct, t)
	if a.params == pConsoleLogin {
		b = append(b, `,"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home?region=`...)
		b = append(b, e.region...)
		b = append(b, `","MobileVersion":"No","MFAUsed":"No"}`...)
	} else if a.source == "s3.amazonaws.com" && a.data {
		b = append(b, `,"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":`...)
		in, out := 0, 0
		switch a.name {
		case "PutObject":
			in = 2048 + rng.IntN(4<<20)
		case "GetObject":
			out = 2048 + rng.IntN(4<<20)
		default:
			out = 512 + rng.IntN(8192)
		}
		b = strconv.AppendInt(b, int64(in), 10)
		b = append(b, `,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"`...)
		b = appendBase64URL(b, rng, 56)
		b = append(b, `","bytesTransferredOut":`...)
		b = strconv.AppendInt(b, int64(out), 10)
		b = append(b, '}')
	}
	start := 0
	if a.params != pConsoleLogin {
		b = append(b, `,"requestID":"`...)
		if a.source == "s3.amazonaws.com" {
			b = appendUpper(b, rng, 16)
		} else {
			b = appendUUID(b, rng)
		}
		b = append(b, '"')
	}
	b = append(b, `,"eventID":"`...)
	start = len(b)
	b = appendUUID(b, rng)
	id := string(b[start:])
	b = append(b, `","readOnly":`...)
	b = strconv.AppendBool(b, a.readOnly)
	b = appendResources(b, e, acct)
	if a.params == pConsoleLogin {
		b = append(b, `,"eventType":"AwsConsoleSignIn"`...)
	} else {
		b = append(b, `,"eventType":"AwsApiCall"`...)
	}
	b = append(b, `,"managementEvent":`...)
	b = strconv.AppendBool(b, !a.data)
	b = append(b, `,"recipientAccountId":"`...)
	b = append(b, acct.ID...)
	b = append(b, '"')
	if e.vpce != "" {
		b = append(b, `,"vpcEndpointId":"`...)
		b = append(b, e.vpce...)
		b = append(b, `","vpcEndpointAccountId":"`...)
		b = append(b, acct.ID...)
		b = append(b, '"')
	}
	b = append(b, `,"eventCategory":"`...)
	if a.data {
		b = append(b, "Data"...)
	} else {
		b = append(b, "Management"...)
	}
	b = append(b, '"')
	if e.ip.IsValid() && a.params != pConsoleLogin {
		b = append(b, `,"tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"`...)
		if a.params == pObject || a.params == pBucket {
			b = append(b, e.res...)
			b = append(b, ".s3."...)
			b = append(b, e.region...)
			b = append(b, ".amazonaws.com"...)
		} else {
			b = append(b, a.host(e.region)...)
		}
		b = append(b, `"}`...)
	}
	if e.who.console {
		b = append(b, `,"sessionCredentialFromConsole":"true"`...)
	}
	b = append(b, '}')
	return b, id
}

func appendIdentity(b []byte, who *ctIdent, acct *Account) []byte {
	assumed := func(b []byte, roleID, role, sess, issuerARN string) []byte {
		b = append(b, `{"type":"AssumedRole","principalId":"`...)
		b = append(b, roleID...)
		b = append(b, ':')
		b = append(b, sess...)
		b = append(b, `","arn":"arn:aws:sts::`...)
		b = append(b, acct.ID...)
		b = append(b, `:assumed-role/`...)
		b = append(b, role...)
		b = append(b, '/')
		b = append(b, sess...)
		b = append(b, `","accountId":"`...)
		b = append(b, acct.ID...)
		b = append(b, `","accessKeyId":"`...)
		b = append(b, who.key...)
		b = append(b, `","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"`...)
		b = append(b, roleID...)
		b = append(b, `","arn":"`...)
		b = append(b, issuerARN...)
		b = append(b, `","accountId":"`...)
		b = append(b, acct.ID...)
		b = append(b, `","userName":"`...)
		b = append(b, role...)
		b = append(b, `"},"attributes":{"creationDate":"`...)
		b = who.created.UTC().Truncate(time.Second).AppendFormat(b, time.RFC3339)
		b = append(b, `","mfaAuthenticated":"false"}`...)
		if who.mach != nil && who.mach.Kind == sessEC2 {
			b = append(b, `,"ec2RoleDelivery":"2.0"`...)
		}
		return append(b, `}}`...)
	}
	switch who.kind {
	case idSSO:
		return assumed(b, who.ps.id, who.ps.role, who.person.Login, who.ps.roleARN(acct))
	case idRole:
		m := who.mach
		return assumed(b, m.PrincipalID, m.Name, who.sess, m.roleARN())
	case idIAMUser:
		name, pid := "", ""
		if who.person != nil {
			name, pid = who.person.Login, who.person.iamID
		} else {
			name, pid = who.mach.Name, who.mach.PrincipalID
		}
		b = append(b, `{"type":"IAMUser","principalId":"`...)
		b = append(b, pid...)
		b = append(b, `","arn":"arn:aws:iam::`...)
		b = append(b, acct.ID...)
		b = append(b, `:user/`...)
		b = append(b, name...)
		b = append(b, `","accountId":"`...)
		b = append(b, acct.ID...)
		b = append(b, `","accessKeyId":"`...)
		b = append(b, who.key...)
		b = append(b, `","userName":`...)
		b = strconv.AppendQuote(b, name)
		return append(b, '}')
	case idService:
		b = append(b, `{"type":"AWSService","invokedBy":"`...)
		b = append(b, who.service...)
		return append(b, `"}`...)
	case idSSOUser:
		b = append(b, `{"type":"Unknown","principalId":"`...)
		b = append(b, who.person.storeID...)
		b = append(b, `","accountId":"`...)
		b = append(b, acct.ID...)
		b = append(b, `","userName":`...)
		b = strconv.AppendQuote(b, who.person.Login)
		return append(b, '}')
	case idExternal:
		b = append(b, `{"type":"AWSAccount","principalId":"AROAWXJ2DDOGSAAS7RL4E:`...)
		b = append(b, who.sess...)
		b = append(b, `","accountId":"`...)
		b = append(b, who.mach.External...)
		return append(b, `"}`...)
	}
	return append(b, "null"...)
}

func appendParams(b []byte, e *ctEv) []byte {
	q := strconv.AppendQuote
	switch e.api.params {
	case pHost:
		b = append(b, `{"Host":"s3.`...)
		b = append(b, e.region...)
		return append(b, `.amazonaws.com"}`...)
	case pObject:
		b = append(b, `{"bucketName":`...)
		b = q(b, e.res)
		b = append(b, `,"Host":"`...)
		b = append(b, e.res...)
		b = append(b, ".s3."...)
		b = append(b, e.region...)
		b = append(b, `.amazonaws.com","key":`...)
		b = q(b, e.res2)
		b = append(b, `,"x-id":`...)
		b = q(b, e.api.name)
		return append(b, '}')
	case pBucket:
		b = append(b, `{"bucketName":`...)
		b = q(b, e.res)
		b = append(b, `,"Host":"`...)
		b = append(b, e.res...)
		b = append(b, ".s3."...)
		b = append(b, e.region...)
		b = append(b, `.amazonaws.com","list-type":"2","prefix":`...)
		b = q(b, e.res2)
		return append(b, '}')
	case pSecret:
		b = append(b, `{"secretId":`...)
		b = q(b, e.res)
		return append(b, '}')
	case pTable:
		b = append(b, `{"tableName":`...)
		b = q(b, e.res)
		if e.api.name == "Query" {
			b = append(b, `,"keyConditionExpression":"pk = :pk","limit":50`...)
		} else {
			b = append(b, `,"key":{"pk":{"S":"`...)
			b = append(b, e.res2...)
			b = append(b, `"}}`...)
		}
		return append(b, '}')
	case pUser:
		if e.res == "" {
			return append(b, "null"...)
		}
		b = append(b, `{"userName":`...)
		b = q(b, e.res)
		return append(b, '}')
	case pUserPolicy:
		b = append(b, `{"userName":`...)
		b = q(b, e.res)
		b = append(b, `,"policyArn":`...)
		b = q(b, e.res2)
		return append(b, '}')
	case pRolePolicy:
		b = append(b, `{"roleName":`...)
		b = q(b, e.res)
		b = append(b, `,"policyArn":`...)
		b = q(b, e.res2)
		return append(b, '}')
	case pGroup:
		b = append(b, `{"groupName":`...)
		b = q(b, e.res2)
		b = append(b, `,"userName":`...)
		b = q(b, e.res)
		return append(b, '}')
	case pAccessKey:
		b = append(b, `{`...)
		if e.res != "" {
			b = append(b, `"userName":`...)
			b = q(b, e.res)
			b = append(b, ',')
		}
		b = append(b, `"accessKeyId":`...)
		b = q(b, e.res2)
		if e.api.name == "UpdateAccessKey" {
			b = append(b, `,"status":"Inactive"`...)
		}
		return append(b, '}')
	case pService:
		b = append(b, `{"cluster":`...)
		b = q(b, e.res)
		b = append(b, `,"service":`...)
		b = q(b, e.res2)
		if e.api.name == "UpdateService" {
			b = append(b, `,"forceNewDeployment":true`...)
		}
		return append(b, '}')
	case pRoleCreds:
		b = append(b, `{"roleName":`...)
		b = q(b, e.res)
		b = append(b, `,"accountId":`...)
		b = q(b, e.res2)
		return append(b, '}')
	case pAssumeRole:
		b = append(b, `{"roleArn":`...)
		b = q(b, e.res)
		b = append(b, `,"roleSessionName":`...)
		b = q(b, e.res2)
		b = append(b, `,"durationSeconds":3600}`...)
		return b
	case pQuery:
		return append(b, `{"queryString":"SELECT * FROM events WHERE dt = current_date","workGroup":"primary","queryExecutionContext":{"database":"analytics"}}`...)
	case pLogGroup:
		b = append(b, `{"logGroupName":"/ecs/`...)
		b = append(b, e.res...)
		return append(b, `","startTime":0,"interleaved":true}`...)
	case pMetric:
		b = append(b, `{"namespace":`...)
		b = q(b, e.res)
		return append(b, '}')
	case pFunction:
		b = append(b, `{"functionName":`...)
		b = q(b, e.res)
		return append(b, '}')
	case pRepo:
		b = append(b, `{"registryIds":["`...)
		b = append(b, e.account().ID...)
		return append(b, `"]}`...)
	case pRole:
		b = append(b, `{"roleName":`...)
		b = q(b, e.res)
		return append(b, '}')
	}
	return append(b, "null"...)
}

func appendResponse(b []byte, e *ctEv, acct *Account, t time.Time) []byte {
	switch e.api.name {
	case "ConsoleLogin":
		return append(b, `{"ConsoleLogin":"Success"}`...)
	case "CreateAccessKey":
		user := e.res
		if user == "" {
			user = callerName(e.who)
		}
		b = append(b, `{"accessKey":{"userName":`...)
		b = strconv.AppendQuote(b, user)
		b = append(b, `,"accessKeyId":"`...)
		b = append(b, e.newKey...)
		b = append(b, `","status":"Active","createDate":"`...)
		b = t.AppendFormat(b, "Jan 2, 2006, 3:04:05 PM")
		return append(b, `"}}`...)
	case "CreateUser":
		b = append(b, `{"user":{"path":"/","userName":`...)
		b = strconv.AppendQuote(b, e.res)
		b = append(b, `,"userId":"AIDAUC3NQX7`...)
		b = append(b, e.newKey[len(e.newKey)-9:]...)
		b = append(b, `","arn":"arn:aws:iam::`...)
		b = append(b, acct.ID...)
		b = append(b, `:user/`...)
		b = append(b, e.res...)
		b = append(b, `","createDate":"`...)
		b = t.AppendFormat(b, "Jan 2, 2006, 3:04:05 PM")
		return append(b, `"}}`...)
	case "AssumeRole":
		b = append(b, `{"credentials":{"accessKeyId":"`...)
		b = append(b, e.newKey...)
		b = append(b, `","expiration":"`...)
		b = t.Add(time.Hour).AppendFormat(b, "Jan 2, 2006, 3:04:05 PM")
		b = append(b, `"},"assumedRoleUser":{"assumedRoleId":"`...)
		if e.who.mach != nil {
			b = append(b, e.who.mach.PrincipalID...)
		}
		b = append(b, ':')
		b = append(b, e.res2...)
		b = append(b, `","arn":"arn:aws:sts::`...)
		b = append(b, acct.ID...)
		b = append(b, `:assumed-role/`...)
		if e.who.mach != nil {
			b = append(b, e.who.mach.Name...)
		}
		b = append(b, '/')
		b = append(b, e.res2...)
		return append(b, `"}}`...)
	case "GetCallerIdentity":
		b = append(b, `{"userId":"`...)
		b = append(b, principalOf(e.who)...)
		b = append(b, `","account":"`...)
		b = append(b, acct.ID...)
		return append(b, `"}`...)
	}
	return append(b, "null"...)
}

func callerName(who *ctIdent) string {
	switch {
	case who.person != nil:
		return who.person.Login
	case who.mach != nil:
		return who.mach.Name
	}
	return ""
}

func principalOf(who *ctIdent) string {
	switch who.kind {
	case idIAMUser:
		if who.person != nil {
			return who.person.iamID
		}
		return who.mach.PrincipalID
	case idRole:
		return who.mach.PrincipalID + ":" + who.sess
	case idSSO:
		return who.ps.id + ":" + who.person.Login
	}
	return ""
}

func appendResources(b []byte, e *ctEv, acct *Account) []byte {
	switch e.api.params {
	case pObject:
		b = append(b, `,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::`...)
		b = append(b, e.res...)
		b = append(b, '/')
		b = append(b, e.res2...)
		b = append(b, `"},{"accountId":"`...)
		b = append(b, acct.ID...)
		b = append(b, `","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::`...)
		b = append(b, e.res...)
		return append(b, `"}]`...)
	case pBucket:
		b = append(b, `,"resources":[{"accountId":"`...)
		b = append(b, acct.ID...)
		b = append(b, `","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::`...)
		b = append(b, e.res...)
		return append(b, `"}]`...)
	case pTable:
		b = append(b, `,"resources":[{"accountId":"`...)
		b = append(b, acct.ID...)
		b = append(b, `","type":"AWS::DynamoDB::Table","ARN":"arn:aws:dynamodb:`...)
		b = append(b, e.region...)
		b = append(b, ':')
		b = append(b, acct.ID...)
		b = append(b, `:table/`...)
		b = append(b, e.res...)
		return append(b, `"}]`...)
	case pAssumeRole:
		b = append(b, `,"resources":[{"accountId":"`...)
		b = append(b, acct.ID...)
		b = append(b, `","type":"AWS::IAM::Role","ARN":`...)
		b = strconv.AppendQuote(b, e.res)
		return append(b, `}]`...)
	}
	return b
}

func appendUpper(b []byte, r interface{ IntN(int) int }, n int) []byte {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for range n {
		b = append(b, chars[r.IntN(len(chars))])
	}
	return b
}

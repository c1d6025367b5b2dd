package sim

import (
	"fmt"
	"time"
)

// Account is an AWS account of the organization.
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

var (
	acctProd = &Account{"284619375012", "prod"}
	acctData = &Account{"517304968221", "data"}
)

// External AWS accounts that assume roles into the organization's (SaaS
// integrations).
const (
	datadogAccount = "464622532012"
	wizAccount     = "197857026523"
)

// Regions: workloads run in eu-west-1 and us-east-1; IAM, STS global and
// console sign-in events land in us-east-1; IAM Identity Center lives in
// eu-west-1.
const (
	regionEU  = "eu-west-1"
	regionUS  = "us-east-1"
	regionSSO = "eu-west-1"
	regionIAM = "us-east-1"
)

// permSet is an IAM Identity Center permission set, provisioned as one
// AWSReservedSSO_ role per account.
type permSet struct {
	name string
	hex  string // the role name's suffix
	role string // AWSReservedSSO_<name>_<hex>
	id   string // AROA… role id
}

func newPermSet(name, hex, id string) *permSet {
	return &permSet{name: name, hex: hex, role: "AWSReservedSSO_" + name + "_" + hex, id: id}
}

var (
	psAdmin    = newPermSet("AdministratorAccess", "4f1b6a2c9d8e7f30", "AROAUC3NQX7ADMIN4K2P")
	psPower    = newPermSet("PowerUserAccess", "8c1d2e3f4a5b6c7d", "AROAUC3NQX7POWER8L1M")
	psAnalyst  = newPermSet("DataAnalyst", "2a9b8c7d6e5f4a3b", "AROAUC3NQX7DATA3N7Q2")
	psReadOnly = newPermSet("ReadOnlyAccess", "6e5d4c3b2a1f0e9d", "AROAUC3NQX7READ5R6S1")
)

func (ps *permSet) roleARN(a *Account) string {
	return "arn:aws:iam::" + a.ID + ":role/aws-reserved/sso.amazonaws.com/" + regionSSO + "/" + ps.role
}

// pkind is the shape of an API call's requestParameters.
type pkind uint8

const (
	pNone         pkind = iota
	pHost               // {"Host": …} (ListBuckets)
	pObject             // bucketName, key (+ resources)
	pBucket             // bucketName, prefix (ListObjectsV2)
	pSecret             // secretId
	pTable              // tableName (+ key)
	pUser               // userName (optional)
	pUserPolicy         // userName, policyArn
	pRolePolicy         // roleName, policyArn
	pAccessKey          // userName, accessKeyId, status
	pService            // cluster, service (ECS)
	pRoleCreds          // roleName, accountId (IAM Identity Center)
	pAssumeRole         // roleArn, roleSessionName
	pQuery              // Athena query
	pLogGroup           // logGroupName
	pMetric             // namespace
	pFunction           // functionName
	pRepo               // registryIds
	pRole               // roleName
	pGroup              // groupName, userName
	pConsoleLogin       // ConsoleLogin's fields
)

// api is a CloudTrail-logged call.
type api struct {
	source   string // eventSource
	name     string // eventName
	readOnly bool
	data     bool // a data event (eventCategory Data)
	params   pkind
	// vpce: called from the VPC, it goes through a VPC endpoint and
	// CloudTrail records the private address.
	vpce bool
}

func (a *api) host(region string) string {
	svc := a.source[:len(a.source)-len(".amazonaws.com")]
	switch svc {
	case "iam", "sts", "signin":
		return svc + ".amazonaws.com"
	}
	return svc + "." + region + ".amazonaws.com"
}

var (
	apiGetObject        = &api{"s3.amazonaws.com", "GetObject", true, true, pObject, true}
	apiPutObject        = &api{"s3.amazonaws.com", "PutObject", false, true, pObject, true}
	apiListObjectsV2    = &api{"s3.amazonaws.com", "ListObjects", true, true, pBucket, true}
	apiListBuckets      = &api{"s3.amazonaws.com", "ListBuckets", true, false, pHost, false}
	apiGetSecretValue   = &api{"secretsmanager.amazonaws.com", "GetSecretValue", true, false, pSecret, true}
	apiPutSecretValue   = &api{"secretsmanager.amazonaws.com", "PutSecretValue", false, false, pSecret, true}
	apiRotateSecret     = &api{"secretsmanager.amazonaws.com", "RotateSecret", false, false, pSecret, true}
	apiDDBQuery         = &api{"dynamodb.amazonaws.com", "Query", true, true, pTable, true}
	apiDDBGetItem       = &api{"dynamodb.amazonaws.com", "GetItem", true, true, pTable, true}
	apiDDBPutItem       = &api{"dynamodb.amazonaws.com", "PutItem", false, true, pTable, true}
	apiGetCallerID      = &api{"sts.amazonaws.com", "GetCallerIdentity", true, false, pNone, false}
	apiAssumeRole       = &api{"sts.amazonaws.com", "AssumeRole", true, false, pAssumeRole, false}
	apiCreateAccessKey  = &api{"iam.amazonaws.com", "CreateAccessKey", false, false, pUser, false}
	apiUpdateAccessKey  = &api{"iam.amazonaws.com", "UpdateAccessKey", false, false, pAccessKey, false}
	apiDeleteAccessKey  = &api{"iam.amazonaws.com", "DeleteAccessKey", false, false, pAccessKey, false}
	apiCreateUser       = &api{"iam.amazonaws.com", "CreateUser", false, false, pUser, false}
	apiAttachUserPolicy = &api{"iam.amazonaws.com", "AttachUserPolicy", false, false, pUserPolicy, false}
	apiAttachRolePolicy = &api{"iam.amazonaws.com", "AttachRolePolicy", false, false, pRolePolicy, false}
	apiAddUserToGroup   = &api{"iam.amazonaws.com", "AddUserToGroup", false, false, pGroup, false}
	apiListUsers        = &api{"iam.amazonaws.com", "ListUsers", true, false, pNone, false}
	apiListRoles        = &api{"iam.amazonaws.com", "ListRoles", true, false, pNone, false}
	apiGetRole          = &api{"iam.amazonaws.com", "GetRole", true, false, pRole, false}
	apiListAccessKeys   = &api{"iam.amazonaws.com", "ListAccessKeys", true, false, pUser, false}
	apiDescribeInst     = &api{"ec2.amazonaws.com", "DescribeInstances", true, false, pNone, false}
	apiDescribeSGs      = &api{"ec2.amazonaws.com", "DescribeSecurityGroups", true, false, pNone, false}
	apiDescribeVpcs     = &api{"ec2.amazonaws.com", "DescribeVpcs", true, false, pNone, false}
	apiListClusters     = &api{"ecs.amazonaws.com", "ListClusters", true, false, pNone, false}
	apiDescribeServices = &api{"ecs.amazonaws.com", "DescribeServices", true, false, pService, false}
	apiUpdateService    = &api{"ecs.amazonaws.com", "UpdateService", false, false, pService, false}
	apiECRAuth          = &api{"ecr.amazonaws.com", "GetAuthorizationToken", true, false, pRepo, false}
	apiFilterLogEvents  = &api{"logs.amazonaws.com", "FilterLogEvents", true, false, pLogGroup, false}
	apiDescribeLogGrps  = &api{"logs.amazonaws.com", "DescribeLogGroups", true, false, pNone, false}
	apiGetMetricData    = &api{"monitoring.amazonaws.com", "GetMetricData", true, false, pNone, false}
	apiPutMetricData    = &api{"monitoring.amazonaws.com", "PutMetricData", false, false, pMetric, false}
	apiListMetrics      = &api{"monitoring.amazonaws.com", "ListMetrics", true, false, pMetric, false}
	apiListFunctions    = &api{"lambda.amazonaws.com", "ListFunctions20150331", true, false, pNone, false}
	apiGetFunction      = &api{"lambda.amazonaws.com", "GetFunction20150331v2", true, false, pFunction, false}
	apiStartQuery       = &api{"athena.amazonaws.com", "StartQueryExecution", false, false, pQuery, false}
	apiGetQueryResults  = &api{"athena.amazonaws.com", "GetQueryResults", true, false, pNone, false}
	apiGlueGetTable     = &api{"glue.amazonaws.com", "GetTable", true, false, pNone, false}
	apiGetResources     = &api{"tagging.amazonaws.com", "GetResources", true, false, pNone, false}
	apiKMSDecrypt       = &api{"kms.amazonaws.com", "Decrypt", true, false, pNone, true}
	apiSendEmail        = &api{"ses.amazonaws.com", "SendRawEmail", false, false, pNone, false}
	apiGetRoleCreds     = &api{"sso.amazonaws.com", "GetRoleCredentials", true, false, pRoleCreds, false}
	apiListAccounts     = &api{"sso.amazonaws.com", "ListAccounts", true, false, pNone, false}
	apiConsoleLogin     = &api{"signin.amazonaws.com", "ConsoleLogin", false, false, pConsoleLogin, false}
	apiDescribeCert     = &api{"acm.amazonaws.com", "ListCertificates", true, false, pNone, false}
	apiRequestCert      = &api{"acm.amazonaws.com", "RenewCertificate", false, false, pNone, false}
	apiGetParameter     = &api{"ssm.amazonaws.com", "GetParameter", true, false, pNone, true}
)

// Buckets, tables and secrets of the organization.
const (
	bucketReports   = "acme-reports"
	bucketBackups   = "acme-backups"
	bucketArtifacts = "acme-artifacts"
	bucketAnalytics = "acme-analytics"
	bucketDataLake  = "acme-data-lake"
	bucketSFTP      = "acme-sftp-inbound"
	bucketLogs      = "acme-log-archive"
	bucketMedia     = "acme-media"
	bucketPayroll   = "acme-payroll"
	bucketCustomer  = "acme-customer-exports"
	bucketPartner   = "acme-partner-feeds"
)

// Machine identities.

// sessKind says how a machine role gets its credentials.
type sessKind uint8

const (
	sessIAMUser  sessKind = iota // long-term AKIA key
	sessECS                      // ECS task role (session name: task id)
	sessEC2                      // EC2 instance profile (session name: instance id)
	sessLambda                   // Lambda execution role (session name: function name)
	sessExternal                 // assumed by a SaaS from its own account
)

// Machine is a non-human identity calling AWS on a schedule.
type Machine struct {
	// Name is the IAM user or role name.
	Name string
	// ID is the canonical identity the CloudTrail decoder gives its
	// calls: the lower-cased user name, or "role/<name>".
	ID      string
	Kind    sessKind
	Account *Account
	Region  string
	// UA is the SDK user agent; Family its useragent family.
	UA, Family string
	// Every is the schedule's period; Jitter spreads each run.
	Every  time.Duration
	Jitter time.Duration
	// At is the time of day of daily jobs (Every == 24h).
	At time.Duration
	// Workdays restricts runs to Monday–Friday working hours (UTC 07–19).
	Workdays bool
	// Calls made on each run.
	Calls []mcall
	// Net: where calls come from. Private is the subnet of its instances
	// (calls through VPC endpoints show these); NAT the public egress.
	Subnet *Network
	Hosts  int // instances in the pool
	NAT    *Network
	VPCE   string
	// Key and principal ids.
	AccessKey   string // IAM users: AKIA…
	PrincipalID string // AIDA… or AROA…
	External    string // the SaaS account that assumes the role
	Invoker     string // AWS service that assumes the role
	idx         int
}

// mcall is one call of a machine's run.
type mcall struct {
	api       *api
	res, res2 string // bucket / secret / table / cluster; object key prefix / service
	n         [2]int // calls per run (min, max)
	p         int    // percent of runs that make the call (0 = every run)
}

func (m *Machine) roleARN() string {
	return "arn:aws:iam::" + m.Account.ID + ":role/" + m.Name
}

type machineSpec struct {
	name     string
	kind     sessKind
	acct     *Account
	region   string
	ua       string
	fam      string
	every    time.Duration
	at       time.Duration
	workdays bool
	hosts    int
	calls    []mcall
	external string
}

const (
	uaGoV2   = "aws-sdk-go-v2/1.32.7 ua/2.1 os/linux lang/go#1.23.4 md/GOOS#linux md/GOARCH#amd64 api/%s#1.71.1 m/E,Z"
	uaJava   = "aws-sdk-java/2.29.43 Linux/5.10.230-223.885.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.5+11-LTS Java/21.0.5 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy"
	uaBoto   = "Boto3/1.35.90 md/Botocore#1.35.90 ua/2.0 os/linux#5.10.230-223.885.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.90"
	uaNode   = "aws-sdk-js/3.716.0 ua/2.1 os/linux#5.10.230-223.885.amzn2.x86_64 lang/js md/nodejs#20.18.1 api/%s#3.716.0 m/E"
	uaTF     = "APN/1.0 HashiCorp/1.0 Terraform/1.10.3 (+https://www.terraform.io) terraform-provider-aws/5.82.2 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.7 ua/2.1 os/linux lang/go#1.23.4 md/GOOS#linux md/GOARCH#amd64 api/%s#1.71.1"
	uaDDog   = "Boto3/1.34.162 md/Botocore#1.34.162 ua/2.0 os/linux#4.14.355-275.582.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.10 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.162 datadog-integration"
	uaWiz    = "aws-sdk-go-v2/1.30.3 ua/2.0 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/%s#1.30.3 wiz-scanner"
	uaCLIMac = "aws-cli/2.22.9 md/awscrt#0.23.4 ua/2.0 os/macos#24.2.0 md/arch#arm64 lang/python#3.12.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#%s"
	uaCLILin = "aws-cli/2.22.9 md/awscrt#0.23.4 ua/2.0 os/linux#6.8.0-51-generic md/arch#x86_64 lang/python#3.12.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#%s"
)

func every(n int) [2]int { return [2]int{n, n} }

// machineSpecs come first in the order scenarios need them; the rest
// fill up the requested number of service accounts.
func machineSpecs() []machineSpec {
	m := time.Minute
	h := time.Hour
	return []machineSpec{
		{name: "svc-backup", kind: sessIAMUser, acct: acctProd, region: regionEU, ua: uaGoV2, fam: "aws-sdk-go-v2", every: h, hosts: 2, calls: []mcall{
			{api: apiListObjectsV2, res: bucketBackups, res2: "hourly/", n: every(1)},
			{api: apiPutObject, res: bucketBackups, res2: "hourly/", n: [2]int{1, 3}},
			{api: apiGetObject, res: bucketBackups, res2: "hourly/", n: every(1), p: 10},
		}},
		{name: "svc-ci-deploy", kind: sessIAMUser, acct: acctProd, region: regionEU, ua: uaGoV2, fam: "aws-sdk-go-v2", every: 90 * m, workdays: true, hosts: 3, calls: []mcall{
			{api: apiECRAuth, n: every(1)},
			{api: apiPutObject, res: bucketArtifacts, res2: "builds/", n: [2]int{1, 2}},
			{api: apiDescribeServices, res: "prod", res2: "web", n: every(1)},
			{api: apiUpdateService, res: "prod", res2: "web", n: every(1), p: 70},
		}},
		{name: "report-renderer", kind: sessEC2, acct: acctProd, region: regionEU, ua: uaGoV2, fam: "aws-sdk-go-v2", every: 15 * m, hosts: 4, calls: []mcall{
			{api: apiGetObject, res: bucketReports, res2: "input/", n: [2]int{1, 3}},
			{api: apiPutObject, res: bucketReports, res2: "rendered/", n: [2]int{1, 2}},
		}},
		{name: "etl-nightly", kind: sessEC2, acct: acctData, region: regionUS, ua: uaBoto, fam: "boto3", every: 24 * h, at: 2*h + 10*m, hosts: 2, calls: []mcall{
			{api: apiGlueGetTable, n: [2]int{3, 6}},
			{api: apiGetObject, res: bucketDataLake, res2: "raw/", n: [2]int{40, 80}},
			{api: apiPutObject, res: bucketDataLake, res2: "curated/", n: [2]int{10, 20}},
			{api: apiStartQuery, n: [2]int{2, 4}},
		}},
		{name: "orders-api-task", kind: sessECS, acct: acctProd, region: regionEU, ua: uaGoV2, fam: "aws-sdk-go-v2", every: 5 * m, hosts: 6, calls: []mcall{
			{api: apiDDBQuery, res: "orders", n: [2]int{1, 2}},
			{api: apiDDBPutItem, res: "orders", n: every(1), p: 60},
			{api: apiGetSecretValue, res: "prod/orders/db", n: every(1), p: 4},
		}},
		{name: "svc-reporting-export", kind: sessIAMUser, acct: acctProd, region: regionEU, ua: uaGoV2, fam: "aws-sdk-go-v2", every: h, hosts: 3, calls: []mcall{
			{api: apiListObjectsV2, res: bucketReports, res2: "rendered/", n: every(1)},
			{api: apiGetObject, res: bucketReports, res2: "rendered/", n: [2]int{1, 3}},
		}},
		{name: "datadog-integration", kind: sessExternal, acct: acctProd, region: regionEU, ua: uaDDog, fam: "boto3", every: 10 * m, external: datadogAccount, calls: []mcall{
			{api: apiGetMetricData, n: [2]int{1, 2}},
			{api: apiDescribeInst, n: every(1), p: 50},
			{api: apiGetResources, n: every(1), p: 30},
		}},
		{name: "svc-metrics-push", kind: sessIAMUser, acct: acctProd, region: regionUS, ua: uaJava, fam: "aws-sdk-java", every: 5 * m, hosts: 2, calls: []mcall{
			{api: apiPutMetricData, res: "Custom/Edge", n: every(1)},
		}},
		{name: "payments-api-task", kind: sessECS, acct: acctProd, region: regionEU, ua: uaJava, fam: "aws-sdk-java", every: 5 * m, hosts: 4, calls: []mcall{
			{api: apiDDBGetItem, res: "payments", n: [2]int{1, 2}},
			{api: apiDDBPutItem, res: "payments", n: every(1), p: 40},
			{api: apiKMSDecrypt, n: every(1), p: 20},
		}},
		{name: "catalog-api-task", kind: sessECS, acct: acctProd, region: regionEU, ua: uaNode, fam: "aws-sdk-js", every: 5 * m, hosts: 3, calls: []mcall{
			{api: apiDDBQuery, res: "catalog", n: every(1)},
			{api: apiGetObject, res: bucketMedia, res2: "catalog/", n: every(1), p: 30},
		}},
		{name: "svc-terraform", kind: sessIAMUser, acct: acctProd, region: regionEU, ua: uaTF, fam: "terraform", every: 4 * h, workdays: true, hosts: 1, calls: []mcall{
			{api: apiDescribeVpcs, n: [2]int{1, 2}},
			{api: apiDescribeSGs, n: [2]int{2, 4}},
			{api: apiGetRole, res: "report-renderer", n: [2]int{1, 3}},
			{api: apiListRoles, n: every(1), p: 30},
		}},
		{name: "thumbnailer", kind: sessLambda, acct: acctProd, region: regionEU, ua: uaNode, fam: "aws-sdk-js", every: 20 * m, calls: []mcall{
			{api: apiGetObject, res: bucketMedia, res2: "uploads/", n: [2]int{1, 4}},
			{api: apiPutObject, res: bucketMedia, res2: "thumbs/", n: [2]int{1, 4}},
		}},
		{name: "wiz-scanner", kind: sessExternal, acct: acctProd, region: regionEU, ua: uaWiz, fam: "aws-sdk-go-v2", every: 6 * h, external: wizAccount, calls: []mcall{
			{api: apiDescribeInst, n: [2]int{2, 4}},
			{api: apiDescribeSGs, n: [2]int{2, 4}},
			{api: apiListRoles, n: every(1)},
			{api: apiListUsers, n: every(1)},
			{api: apiListBuckets, n: every(1)},
			{api: apiListFunctions, n: every(1)},
		}},
		{name: "legacy-sftp-sync", kind: sessIAMUser, acct: acctProd, region: regionEU, ua: uaBoto, fam: "boto3", every: 15 * m, hosts: 1, calls: []mcall{
			{api: apiPutObject, res: bucketSFTP, res2: "inbound/", n: [2]int{0, 2}},
			{api: apiListObjectsV2, res: bucketSFTP, res2: "inbound/", n: every(1)},
		}},
		{name: "search-indexer", kind: sessECS, acct: acctProd, region: regionEU, ua: uaJava, fam: "aws-sdk-java", every: 10 * m, hosts: 2, calls: []mcall{
			{api: apiDDBQuery, res: "catalog", n: [2]int{1, 3}},
		}},
		{name: "secret-rotator", kind: sessLambda, acct: acctProd, region: regionEU, ua: uaBoto, fam: "boto3", every: 24 * h, at: 3 * h, calls: []mcall{
			{api: apiGetSecretValue, res: "prod/orders/db", n: every(1)},
			{api: apiRotateSecret, res: "prod/orders/db", n: every(1)},
			{api: apiPutSecretValue, res: "prod/orders/db", n: every(1)},
		}},
		{name: "dwh-loader", kind: sessEC2, acct: acctData, region: regionUS, ua: uaBoto, fam: "boto3", every: 24 * h, at: 4 * h, hosts: 2, calls: []mcall{
			{api: apiGetObject, res: bucketDataLake, res2: "curated/", n: [2]int{20, 40}},
			{api: apiStartQuery, n: [2]int{3, 6}},
			{api: apiGetQueryResults, n: [2]int{3, 6}},
		}},
		{name: "notifications-task", kind: sessECS, acct: acctProd, region: regionEU, ua: uaNode, fam: "aws-sdk-js", every: 15 * m, hosts: 2, calls: []mcall{
			{api: apiSendEmail, n: [2]int{0, 3}},
			{api: apiDDBGetItem, res: "customers", n: every(1)},
		}},
		{name: "svc-log-archiver", kind: sessIAMUser, acct: acctProd, region: regionEU, ua: uaGoV2, fam: "aws-sdk-go-v2", every: h, hosts: 1, calls: []mcall{
			{api: apiPutObject, res: bucketLogs, res2: "app/", n: [2]int{2, 4}},
		}},
		{name: "cert-renewer", kind: sessLambda, acct: acctProd, region: regionUS, ua: uaBoto, fam: "boto3", every: 24 * h, at: 5 * h, calls: []mcall{
			{api: apiDescribeCert, n: every(1)},
		}},
		{name: "inventory-task", kind: sessECS, acct: acctProd, region: regionEU, ua: uaGoV2, fam: "aws-sdk-go-v2", every: 10 * m, hosts: 2, calls: []mcall{
			{api: apiDDBQuery, res: "inventory", n: every(1)},
			{api: apiDDBPutItem, res: "inventory", n: every(1), p: 30},
		}},
		{name: "svc-partner-feed", kind: sessIAMUser, acct: acctData, region: regionUS, ua: uaJava, fam: "aws-sdk-java", every: 2 * h, hosts: 1, calls: []mcall{
			{api: apiPutObject, res: bucketPartner, res2: "outbound/", n: [2]int{1, 2}},
		}},
		{name: "ml-feature-build", kind: sessEC2, acct: acctData, region: regionUS, ua: uaBoto, fam: "boto3", every: 24 * h, at: 6 * h, hosts: 2, calls: []mcall{
			{api: apiGetObject, res: bucketDataLake, res2: "curated/", n: [2]int{15, 30}},
			{api: apiPutObject, res: bucketDataLake, res2: "features/", n: [2]int{3, 6}},
		}},
		{name: "billing-api-task", kind: sessECS, acct: acctProd, region: regionEU, ua: uaJava, fam: "aws-sdk-java", every: 10 * m, hosts: 2, calls: []mcall{
			{api: apiDDBGetItem, res: "invoices", n: every(1)},
			{api: apiKMSDecrypt, n: every(1), p: 25},
		}},
		{name: "pdf-export", kind: sessEC2, acct: acctProd, region: regionEU, ua: uaJava, fam: "aws-sdk-java", every: 30 * m, workdays: true, hosts: 2, calls: []mcall{
			{api: apiGetObject, res: bucketReports, res2: "rendered/", n: [2]int{1, 3}},
			{api: apiPutObject, res: bucketCustomer, res2: "pdf/", n: [2]int{1, 3}},
		}},
		{name: "slack-notifier", kind: sessLambda, acct: acctProd, region: regionEU, ua: uaNode, fam: "aws-sdk-js", every: h, calls: []mcall{
			{api: apiGetSecretValue, res: "prod/slack/webhook", n: every(1), p: 20},
		}},
		{name: "shipping-api-task", kind: sessECS, acct: acctProd, region: regionEU, ua: uaNode, fam: "aws-sdk-js", every: 10 * m, hosts: 2, calls: []mcall{
			{api: apiDDBQuery, res: "shipments", n: every(1)},
		}},
		{name: "cost-report", kind: sessEC2, acct: acctData, region: regionUS, ua: uaBoto, fam: "boto3", every: 24 * h, at: 7 * h, hosts: 1, calls: []mcall{
			{api: apiStartQuery, n: [2]int{2, 3}},
			{api: apiGetQueryResults, n: [2]int{2, 3}},
			{api: apiPutObject, res: bucketReports, res2: "cost/", n: every(1)},
		}},
	}
}

// secretNames are the organization's Secrets Manager secrets.
func secretNames() []string {
	svcs := []string{"orders", "payments", "catalog", "search", "notifications", "billing", "inventory",
		"shipping", "accounts", "pricing", "reviews", "auth", "gateway", "reporting", "etl", "ml"}
	kinds := []string{"db", "api-key", "signing-key", "oauth-client", "webhook", "smtp", "redis", "kafka"}
	var out []string
	for _, env := range []string{"prod", "staging"} {
		for i, s := range svcs {
			for j, k := range kinds {
				if (i+j)%2 == 0 || env == "prod" && (i+j)%3 == 0 {
					out = append(out, env+"/"+s+"/"+k)
				}
			}
		}
	}
	return out
}

func accessKeyID(prefix string, r interface{ IntN(int) int }) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := []byte(prefix + "UC3NQX7")
	for len(b) < 20 {
		b = append(b, chars[r.IntN(len(chars))])
	}
	return string(b)
}

func (m *Machine) String() string { return fmt.Sprintf("%s (%s)", m.ID, m.Account.Name) }

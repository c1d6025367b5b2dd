package cloudtrail

import (
	"github.com/vigil-zt/vigil/internal/event"
)

type class struct {
	// svc is the service the name belongs to ("iam" for
	// iam.amazonaws.com); the entry applies only to that service, or to
	// records that do not name one. Empty means any service.
	svc string
	c   event.Category
	a   event.Activity
	// data marks object- and item-level calls, which CloudTrail logs as
	// data events: it decides Log when a record carries neither
	// managementEvent nor eventCategory (files before eventVersion 1.08).
	data bool
}

// known maps the calls detectors rely on; Classify falls back to the verb
// that starts the name for the thousands of others.
//
// CreateLoginProfile and UpdateLoginProfile are account_change/
// password_reset: they are how an administrator sets another user's console
// password, the same act as Okta's user.account.reset_password and
// Workspace's CHANGE_PASSWORD, so one detector covers all three. A user
// changing their own password calls ChangePassword (password_change).
var known = map[string]class{
	// Sign-in and sessions.
	"ConsoleLogin":              {"signin", event.CategoryAuthentication, event.ActivityLogin, false},
	"CheckMfa":                  {"signin", event.CategoryMFA, event.ActivityMFAVerify, false},
	"GetSigninToken":            {"signin", event.CategoryAuthentication, event.ActivitySSO, false},
	"Federate":                  {"", event.CategoryAuthentication, event.ActivitySSO, false},
	"SwitchRole":                {"signin", event.CategorySession, event.ActivitySessionStart, false},
	"ExternalIdPDirectoryLogin": {"signin", event.CategoryAuthentication, event.ActivityLogin, false},
	"UserAuthentication":        {"signin", event.CategoryAuthentication, event.ActivityLogin, false},
	"AssumeRole":                {"sts", event.CategorySession, event.ActivitySessionStart, false},
	"AssumeRoleWithSAML":        {"sts", event.CategorySession, event.ActivitySessionStart, false},
	"AssumeRoleWithWebIdentity": {"sts", event.CategorySession, event.ActivitySessionStart, false},
	"AssumeRoot":                {"sts", event.CategorySession, event.ActivitySessionStart, false},
	"GetSessionToken":           {"sts", event.CategorySession, event.ActivitySessionStart, false},
	"GetFederationToken":        {"sts", event.CategorySession, event.ActivitySessionStart, false},
	"GetRoleCredentials":        {"sso", event.CategorySession, event.ActivitySessionStart, false},
	"CreateToken":               {"sso", event.CategoryAuthentication, event.ActivityTokenIssue, false},
	"Logout":                    {"sso", event.CategoryAuthentication, event.ActivityLogout, false},

	// Long-term credentials.
	"CreateAccessKey":                 {"iam", event.CategoryCredential, event.ActivityKeyCreate, false},
	"DeleteAccessKey":                 {"iam", event.CategoryCredential, event.ActivityKeyDelete, false},
	"UpdateAccessKey":                 {"iam", event.CategoryCredential, event.ActivityKeyUpdate, false},
	"UploadSSHPublicKey":              {"iam", event.CategoryCredential, event.ActivityKeyCreate, false},
	"DeleteSSHPublicKey":              {"iam", event.CategoryCredential, event.ActivityKeyDelete, false},
	"UploadSigningCertificate":        {"iam", event.CategoryCredential, event.ActivityKeyCreate, false},
	"DeleteSigningCertificate":        {"iam", event.CategoryCredential, event.ActivityKeyDelete, false},
	"CreateServiceSpecificCredential": {"iam", event.CategoryCredential, event.ActivityKeyCreate, false},
	"DeleteServiceSpecificCredential": {"iam", event.CategoryCredential, event.ActivityKeyDelete, false},
	"CreateLoginProfile":              {"iam", event.CategoryAccountChange, event.ActivityPasswordReset, false},
	"UpdateLoginProfile":              {"iam", event.CategoryAccountChange, event.ActivityPasswordReset, false},
	"DeleteLoginProfile":              {"iam", event.CategoryAccountChange, event.ActivityUpdate, false},
	"ChangePassword":                  {"iam", event.CategoryAccountChange, event.ActivityPasswordChange, false},

	// Users.
	"CreateUser": {"iam", event.CategoryAccountChange, event.ActivityCreate, false},
	"DeleteUser": {"iam", event.CategoryAccountChange, event.ActivityDelete, false},
	"UpdateUser": {"iam", event.CategoryAccountChange, event.ActivityUpdate, false},

	// Permissions: attaching a policy to a principal grants; changing what
	// a policy allows is a policy change.
	"AttachUserPolicy":              {"iam", event.CategoryPrivilege, event.ActivityGrant, false},
	"AttachRolePolicy":              {"iam", event.CategoryPrivilege, event.ActivityGrant, false},
	"AttachGroupPolicy":             {"iam", event.CategoryPrivilege, event.ActivityGrant, false},
	"PutUserPolicy":                 {"iam", event.CategoryPrivilege, event.ActivityGrant, false},
	"PutRolePolicy":                 {"iam", event.CategoryPrivilege, event.ActivityGrant, false},
	"PutGroupPolicy":                {"iam", event.CategoryPrivilege, event.ActivityGrant, false},
	"AddUserToGroup":                {"iam", event.CategoryPrivilege, event.ActivityGrant, false},
	"CreatePolicy":                  {"iam", event.CategoryPrivilege, event.ActivityPolicyChange, false},
	"CreatePolicyVersion":           {"iam", event.CategoryPrivilege, event.ActivityPolicyChange, false},
	"SetDefaultPolicyVersion":       {"iam", event.CategoryPrivilege, event.ActivityPolicyChange, false},
	"DeletePolicyVersion":           {"iam", event.CategoryPrivilege, event.ActivityPolicyChange, false},
	"UpdateAssumeRolePolicy":        {"iam", event.CategoryPrivilege, event.ActivityPolicyChange, false},
	"PutUserPermissionsBoundary":    {"iam", event.CategoryPrivilege, event.ActivityPolicyChange, false},
	"PutRolePermissionsBoundary":    {"iam", event.CategoryPrivilege, event.ActivityPolicyChange, false},
	"DeleteUserPermissionsBoundary": {"iam", event.CategoryPrivilege, event.ActivityPolicyChange, false},
	"DeleteRolePermissionsBoundary": {"iam", event.CategoryPrivilege, event.ActivityPolicyChange, false},
	"DetachUserPolicy":              {"iam", event.CategoryPrivilege, event.ActivityRevoke, false},
	"DetachRolePolicy":              {"iam", event.CategoryPrivilege, event.ActivityRevoke, false},
	"DetachGroupPolicy":             {"iam", event.CategoryPrivilege, event.ActivityRevoke, false},
	"DeleteUserPolicy":              {"iam", event.CategoryPrivilege, event.ActivityRevoke, false},
	"DeleteRolePolicy":              {"iam", event.CategoryPrivilege, event.ActivityRevoke, false},
	"DeleteGroupPolicy":             {"iam", event.CategoryPrivilege, event.ActivityRevoke, false},
	"DeletePolicy":                  {"iam", event.CategoryPrivilege, event.ActivityRevoke, false},
	"RemoveUserFromGroup":           {"iam", event.CategoryPrivilege, event.ActivityRevoke, false},

	// Resource policies.
	"PutBucketPolicy":               {"s3", event.CategoryPrivilege, event.ActivityPolicyChange, false},
	"DeleteBucketPolicy":            {"s3", event.CategoryPrivilege, event.ActivityPolicyChange, false},
	"PutBucketAcl":                  {"s3", event.CategoryPrivilege, event.ActivityPolicyChange, false},
	"PutBucketPublicAccessBlock":    {"s3", event.CategoryPrivilege, event.ActivityPolicyChange, false},
	"DeleteBucketPublicAccessBlock": {"s3", event.CategoryPrivilege, event.ActivityPolicyChange, false},
	"PutKeyPolicy":                  {"kms", event.CategoryPrivilege, event.ActivityPolicyChange, false},

	// MFA devices.
	"EnableMFADevice":        {"iam", event.CategoryMFA, event.ActivityMFAEnroll, false},
	"CreateVirtualMFADevice": {"iam", event.CategoryMFA, event.ActivityMFAEnroll, false},
	"DeactivateMFADevice":    {"iam", event.CategoryMFA, event.ActivityMFARemove, false},
	"DeleteVirtualMFADevice": {"iam", event.CategoryMFA, event.ActivityMFARemove, false},
	"ResyncMFADevice":        {"iam", event.CategoryMFA, event.ActivityOther, false},

	// Data: secrets, objects, items, parameters.
	"GetSecretValue":          {"secretsmanager", event.CategoryDataAccess, event.ActivityRead, false},
	"BatchGetSecretValue":     {"secretsmanager", event.CategoryDataAccess, event.ActivityRead, false},
	"GetObject":               {"s3", event.CategoryDataAccess, event.ActivityRead, true},
	"SelectObjectContent":     {"s3", event.CategoryDataAccess, event.ActivityRead, true},
	"GetObjectTorrent":        {"s3", event.CategoryDataAccess, event.ActivityRead, true},
	"PutObject":               {"s3", event.CategoryDataAccess, event.ActivityWrite, true},
	"CopyObject":              {"s3", event.CategoryDataAccess, event.ActivityWrite, true},
	"UploadPart":              {"s3", event.CategoryDataAccess, event.ActivityWrite, true},
	"UploadPartCopy":          {"s3", event.CategoryDataAccess, event.ActivityWrite, true},
	"CompleteMultipartUpload": {"s3", event.CategoryDataAccess, event.ActivityWrite, true},
	"RestoreObject":           {"s3", event.CategoryDataAccess, event.ActivityWrite, true},
	"DeleteObject":            {"s3", event.CategoryDataAccess, event.ActivityDelete, true},
	"DeleteObjects":           {"s3", event.CategoryDataAccess, event.ActivityDelete, true},
	"ListObjects":             {"s3", event.CategoryDataAccess, event.ActivityList, true},
	"ListObjectsV2":           {"s3", event.CategoryDataAccess, event.ActivityList, true},
	"ListObjectVersions":      {"s3", event.CategoryDataAccess, event.ActivityList, true},
	"GetItem":                 {"dynamodb", event.CategoryDataAccess, event.ActivityRead, true},
	"BatchGetItem":            {"dynamodb", event.CategoryDataAccess, event.ActivityRead, true},
	"Query":                   {"dynamodb", event.CategoryDataAccess, event.ActivityRead, true},
	"Scan":                    {"dynamodb", event.CategoryDataAccess, event.ActivityRead, true},
	"GetRecords":              {"dynamodb", event.CategoryDataAccess, event.ActivityRead, true},
	"PutItem":                 {"dynamodb", event.CategoryDataAccess, event.ActivityWrite, true},
	"UpdateItem":              {"dynamodb", event.CategoryDataAccess, event.ActivityWrite, true},
	"BatchWriteItem":          {"dynamodb", event.CategoryDataAccess, event.ActivityWrite, true},
	"DeleteItem":              {"dynamodb", event.CategoryDataAccess, event.ActivityDelete, true},
	"Invoke":                  {"lambda", event.CategoryAPIActivity, event.ActivityOther, true},
	"GetParameter":            {"ssm", event.CategoryAPIActivity, event.ActivityRead, false},
	"GetParameters":           {"ssm", event.CategoryAPIActivity, event.ActivityRead, false},
	"GetParametersByPath":     {"ssm", event.CategoryAPIActivity, event.ActivityRead, false},
}

// Classify maps a CloudTrail eventSource and eventName to a category and
// activity. Calls not in the table are api_activity with the activity read
// from the verb that starts the name (Get/Describe → read, List → list,
// Create/Run → create, Put → write, Delete/Terminate → delete,
// Update/Modify/Set → update). SSM GetParameter* classify as api_activity
// here; Decode makes them data_access when they asked for decryption.
func Classify(eventSource, eventName string) (event.Category, event.Activity) {
	if k, ok := lookup(eventSource, eventName); ok {
		return k.c, k.a
	}
	return event.CategoryAPIActivity, verb(eventName)
}

func lookup(src, name string) (class, bool) {
	k, ok := known[name]
	if !ok || !serviceIs(src, k.svc) {
		return class{}, false
	}
	return k, true
}

// serviceIs reports whether the eventSource src ("iam.amazonaws.com") is
// the service svc. An absent source matches: exports that drop it still
// name unambiguous calls.
func serviceIs(src, svc string) bool {
	if svc == "" || src == "" {
		return true
	}
	return len(src) > len(svc) && src[:len(svc)] == svc && (src[len(svc)] == '.' || src[len(svc)] == '-')
}

// verb reads the leading word of an API name ("DescribeInstances" →
// Describe); "Batch" prefixes look at the next word.
func verb(name string) event.Activity {
	w := firstWord(name)
	if w == "Batch" {
		w = firstWord(name[len(w):])
	}
	switch w {
	case "Get", "Describe", "Head", "Lookup", "Search", "Select", "Download", "Retrieve", "Read", "Query", "Scan":
		return event.ActivityRead
	case "List":
		return event.ActivityList
	case "Create", "Run", "Register", "Allocate", "Import", "Issue", "Generate", "Copy", "Launch", "Request":
		return event.ActivityCreate
	case "Put", "Upload", "Send", "Publish", "Write":
		return event.ActivityWrite
	case "Delete", "Terminate", "Remove", "Deregister", "Release", "Purge", "Deactivate":
		return event.ActivityDelete
	case "Update", "Modify", "Set", "Change", "Reset", "Attach", "Detach", "Associate", "Disassociate",
		"Enable", "Disable", "Authorize", "Revoke", "Tag", "Untag", "Start", "Stop", "Reboot", "Restore",
		"Rotate", "Replace", "Apply", "Add", "Accept", "Reject", "Cancel", "Activate":
		return event.ActivityUpdate
	}
	return event.ActivityOther
}

// firstWord returns the leading capitalized word of a PascalCase name.
func firstWord(s string) string {
	if s == "" {
		return ""
	}
	i := 1
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	return s[:i]
}

package event

// Category is the normalized class of an event, aligned with OCSF classes so
// that OCSF input and output map one to one where OCSF has a class.
type Category string

// Categories. The comment gives the OCSF class each aligns with.
const (
	CategoryOther          Category = "other"
	CategoryAuthentication Category = "authentication" // 3002 Authentication
	CategorySession        Category = "session"        // 3003 Authorize Session
	CategoryMFA            Category = "mfa"            // 3002 Authentication (factor)
	CategoryAccountChange  Category = "account_change" // 3001 Account Change
	CategoryPrivilege      Category = "privilege"      // 3005 User Access Management
	CategoryCredential     Category = "credential"     // 3001 Account Change (credential)
	CategoryAPIActivity    Category = "api_activity"   // 6003 API Activity
	CategoryDataAccess     Category = "data_access"    // 6005 Datastore Activity
)

// Categories lists every category, for validation and help texts.
var Categories = []Category{
	CategoryAuthentication, CategorySession, CategoryMFA, CategoryAccountChange,
	CategoryPrivilege, CategoryCredential, CategoryAPIActivity, CategoryDataAccess,
	CategoryOther,
}

// ClassUID returns the OCSF class uid the category aligns with, 0 for other.
func (c Category) ClassUID() int {
	switch c {
	case CategoryAuthentication, CategoryMFA:
		return 3002
	case CategorySession:
		return 3003
	case CategoryAccountChange, CategoryCredential:
		return 3001
	case CategoryPrivilege:
		return 3005
	case CategoryAPIActivity:
		return 6003
	case CategoryDataAccess:
		return 6005
	}
	return 0
}

// Valid reports whether c is one of the defined categories.
func (c Category) Valid() bool {
	for _, k := range Categories {
		if c == k {
			return true
		}
	}
	return false
}

// Activity is the normalized verb of an event within its category.
type Activity string

// Activities.
const (
	ActivityOther Activity = "other"

	// Authentication and sessions.
	ActivityLogin          Activity = "login"
	ActivityLogout         Activity = "logout"
	ActivitySSO            Activity = "sso"             // sign-on to an application
	ActivityTokenIssue     Activity = "token_issue"     // access/refresh/session token granted
	ActivityTokenRefresh   Activity = "token_refresh"   // non-interactive renewal
	ActivitySessionStart   Activity = "session_start"   // explicit session creation (assume role)
	ActivitySessionRevoke  Activity = "session_revoke"  // sessions cleared or tokens revoked
	ActivityImpersonate    Activity = "impersonate"     // acting as another user
	ActivityPolicyEvaluate Activity = "policy_evaluate" // sign-on policy decision

	// Factors.
	ActivityMFAChallenge Activity = "mfa_challenge" // a factor was asked for
	ActivityMFAVerify    Activity = "mfa_verify"    // a factor was answered
	ActivityMFADeny      Activity = "mfa_deny"      // the user rejected a push
	ActivityMFAEnroll    Activity = "mfa_enroll"
	ActivityMFARemove    Activity = "mfa_remove" // deactivated or reset

	// Accounts.
	ActivityCreate         Activity = "create"
	ActivityDelete         Activity = "delete"
	ActivityUpdate         Activity = "update"
	ActivityEnable         Activity = "enable"
	ActivityDisable        Activity = "disable"
	ActivityLock           Activity = "lock"
	ActivityUnlock         Activity = "unlock"
	ActivityPasswordChange Activity = "password_change"
	ActivityPasswordReset  Activity = "password_reset"
	ActivityRecovery       Activity = "recovery" // self-service account recovery

	// Privileges.
	ActivityGrant        Activity = "grant"
	ActivityRevoke       Activity = "revoke"
	ActivityPolicyChange Activity = "policy_change"

	// Credentials.
	ActivityKeyCreate   Activity = "key_create"
	ActivityKeyDelete   Activity = "key_delete"
	ActivityKeyUpdate   Activity = "key_update"
	ActivityTokenCreate Activity = "token_create"
	ActivityTokenRevoke Activity = "token_revoke"

	// API and data.
	ActivityRead     Activity = "read"
	ActivityList     Activity = "list"
	ActivityWrite    Activity = "write"
	ActivityDownload Activity = "download"
	ActivityShare    Activity = "share"
)

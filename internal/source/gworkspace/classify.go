package gworkspace

import (
	"strings"

	"github.com/vigil-zt/vigil/internal/event"
)

type class struct {
	c event.Category
	a event.Activity
}

// account holds the events of the login and user_accounts applications,
// which Google reports in either depending on the export.
var account = map[string]class{
	"login_success":                           {event.CategoryAuthentication, event.ActivityLogin},
	"login_failure":                           {event.CategoryAuthentication, event.ActivityLogin},
	"login_challenge":                         {event.CategoryMFA, event.ActivityMFAChallenge},
	"login_verification":                      {event.CategoryMFA, event.ActivityMFAVerify},
	"logout":                                  {event.CategoryAuthentication, event.ActivityLogout},
	"suspicious_login":                        {event.CategoryAuthentication, event.ActivityOther},
	"suspicious_login_less_secure_app":        {event.CategoryAuthentication, event.ActivityOther},
	"suspicious_programmatic_login":           {event.CategoryAuthentication, event.ActivityOther},
	"gov_attack_warning":                      {event.CategoryAuthentication, event.ActivityOther},
	"risky_sensitive_action_allowed":          {event.CategoryAuthentication, event.ActivityOther},
	"risky_sensitive_action_blocked":          {event.CategoryAuthentication, event.ActivityOther},
	"2sv_enroll":                              {event.CategoryMFA, event.ActivityMFAEnroll},
	"2sv_disable":                             {event.CategoryMFA, event.ActivityMFARemove},
	"titanium_enroll":                         {event.CategoryMFA, event.ActivityMFAEnroll}, // Advanced Protection
	"titanium_unenroll":                       {event.CategoryMFA, event.ActivityMFARemove},
	"password_edit":                           {event.CategoryAccountChange, event.ActivityPasswordChange},
	"recovery_email_edit":                     {event.CategoryAccountChange, event.ActivityUpdate},
	"recovery_phone_edit":                     {event.CategoryAccountChange, event.ActivityUpdate},
	"recovery_secret_qa_edit":                 {event.CategoryAccountChange, event.ActivityUpdate},
	"email_forwarding_out_of_domain":          {event.CategoryAccountChange, event.ActivityUpdate},
	"account_disabled_generic":                {event.CategoryAccountChange, event.ActivityDisable},
	"account_disabled_spamming":               {event.CategoryAccountChange, event.ActivityDisable},
	"account_disabled_spamming_through_relay": {event.CategoryAccountChange, event.ActivityDisable},
	"account_disabled_hijacked":               {event.CategoryAccountChange, event.ActivityDisable},
	"account_disabled_password_leak":          {event.CategoryAccountChange, event.ActivityDisable},
}

// admin holds the Admin console events detectors rely on; the others are
// api_activity with the verb their name starts with.
var admin = map[string]class{
	"CREATE_USER":                                  {event.CategoryAccountChange, event.ActivityCreate},
	"DELETE_USER":                                  {event.CategoryAccountChange, event.ActivityDelete},
	"UNDELETE_USER":                                {event.CategoryAccountChange, event.ActivityEnable},
	"SUSPEND_USER":                                 {event.CategoryAccountChange, event.ActivityDisable},
	"UNSUSPEND_USER":                               {event.CategoryAccountChange, event.ActivityEnable},
	"CHANGE_USER_NAME":                             {event.CategoryAccountChange, event.ActivityUpdate},
	"RENAME_USER":                                  {event.CategoryAccountChange, event.ActivityUpdate},
	"CHANGE_PASSWORD":                              {event.CategoryAccountChange, event.ActivityPasswordReset},
	"CHANGE_PASSWORD_ON_NEXT_LOGIN":                {event.CategoryAccountChange, event.ActivityUpdate},
	"GENERATE_2SV_SCRATCH_CODES":                   {event.CategoryCredential, event.ActivityKeyCreate},
	"DELETE_2SV_SCRATCH_CODES":                     {event.CategoryCredential, event.ActivityKeyDelete},
	"CHANGE_RECOVERY_EMAIL":                        {event.CategoryAccountChange, event.ActivityUpdate},
	"CHANGE_RECOVERY_PHONE":                        {event.CategoryAccountChange, event.ActivityUpdate},
	"RESET_SIGNIN_COOKIES":                         {event.CategorySession, event.ActivitySessionRevoke},
	"ASSIGN_ROLE":                                  {event.CategoryPrivilege, event.ActivityGrant},
	"GRANT_ADMIN_PRIVILEGE":                        {event.CategoryPrivilege, event.ActivityGrant},
	"ADD_PRIVILEGE":                                {event.CategoryPrivilege, event.ActivityGrant},
	"UNASSIGN_ROLE":                                {event.CategoryPrivilege, event.ActivityRevoke},
	"REVOKE_ADMIN_PRIVILEGE":                       {event.CategoryPrivilege, event.ActivityRevoke},
	"REMOVE_PRIVILEGE":                             {event.CategoryPrivilege, event.ActivityRevoke},
	"ADD_GROUP_MEMBER":                             {event.CategoryPrivilege, event.ActivityGrant},
	"REMOVE_GROUP_MEMBER":                          {event.CategoryPrivilege, event.ActivityRevoke},
	"AUTHORIZE_API_CLIENT_ACCESS":                  {event.CategoryPrivilege, event.ActivityGrant}, // domain-wide delegation
	"REMOVE_API_CLIENT_ACCESS":                     {event.CategoryPrivilege, event.ActivityRevoke},
	"CREATE_ROLE":                                  {event.CategoryPrivilege, event.ActivityPolicyChange},
	"DELETE_ROLE":                                  {event.CategoryPrivilege, event.ActivityPolicyChange},
	"RENAME_ROLE":                                  {event.CategoryPrivilege, event.ActivityPolicyChange},
	"ENFORCE_STRONG_AUTHENTICATION":                {event.CategoryPrivilege, event.ActivityPolicyChange},
	"ALLOW_STRONG_AUTHENTICATION":                  {event.CategoryPrivilege, event.ActivityPolicyChange},
	"CHANGE_ALLOWED_TWO_STEP_VERIFICATION_METHODS": {event.CategoryPrivilege, event.ActivityPolicyChange},
	"CHANGE_TWO_STEP_VERIFICATION_ENROLLMENT_PERIOD_DURATION": {event.CategoryPrivilege, event.ActivityPolicyChange},
	"CHANGE_TWO_STEP_VERIFICATION_FREQUENCY":                  {event.CategoryPrivilege, event.ActivityPolicyChange},
	"CHANGE_TWO_STEP_VERIFICATION_GRACE_PERIOD":               {event.CategoryPrivilege, event.ActivityPolicyChange},
	"CHANGE_TWO_STEP_VERIFICATION_START_DATE":                 {event.CategoryPrivilege, event.ActivityPolicyChange},
	"TOGGLE_SSO_ENABLED":                                      {event.CategoryPrivilege, event.ActivityPolicyChange},
	"CHANGE_SSO_SETTINGS":                                     {event.CategoryPrivilege, event.ActivityPolicyChange},
	"ADD_TRUSTED_DOMAINS":                                     {event.CategoryPrivilege, event.ActivityPolicyChange},
	"REMOVE_TRUSTED_DOMAINS":                                  {event.CategoryPrivilege, event.ActivityPolicyChange},
	"WEAK_PROGRAMMATIC_LOGIN_SETTINGS_CHANGED":                {event.CategoryPrivilege, event.ActivityPolicyChange},
	"TOGGLE_CAA_ENABLEMENT":                                   {event.CategoryPrivilege, event.ActivityPolicyChange},
	"REVOKE_3LO_TOKEN":                                        {event.CategoryCredential, event.ActivityTokenRevoke},
	"REVOKE_3LO_DEVICE_TOKENS":                                {event.CategoryCredential, event.ActivityTokenRevoke},
	"CUSTOMER_TAKEOUT_CREATED":                                {event.CategoryDataAccess, event.ActivityDownload},
}

var drive = map[string]class{
	"download":                       {event.CategoryDataAccess, event.ActivityDownload},
	"view":                           {event.CategoryDataAccess, event.ActivityRead},
	"preview":                        {event.CategoryDataAccess, event.ActivityRead},
	"print":                          {event.CategoryDataAccess, event.ActivityRead},
	"copy":                           {event.CategoryDataAccess, event.ActivityRead},
	"edit":                           {event.CategoryDataAccess, event.ActivityWrite},
	"upload":                         {event.CategoryDataAccess, event.ActivityWrite},
	"create":                         {event.CategoryDataAccess, event.ActivityCreate},
	"rename":                         {event.CategoryDataAccess, event.ActivityUpdate},
	"move":                           {event.CategoryDataAccess, event.ActivityUpdate},
	"untrash":                        {event.CategoryDataAccess, event.ActivityUpdate},
	"delete":                         {event.CategoryDataAccess, event.ActivityDelete},
	"trash":                          {event.CategoryDataAccess, event.ActivityDelete},
	"change_user_access":             {event.CategoryDataAccess, event.ActivityShare},
	"change_document_visibility":     {event.CategoryDataAccess, event.ActivityShare},
	"change_document_access_scope":   {event.CategoryDataAccess, event.ActivityShare},
	"change_acl_editors":             {event.CategoryDataAccess, event.ActivityShare},
	"change_owner":                   {event.CategoryDataAccess, event.ActivityShare},
	"shared_drive_membership_change": {event.CategoryDataAccess, event.ActivityShare},
}

// Classify maps a Workspace application name, event type and event name to
// a category and activity:
//
//   - login, user_accounts: sign-ins (login_success and login_failure are
//     both authentication/login; the outcome tells them apart), factors,
//     passwords, recovery info and Google's account_disabled_* actions;
//   - saml: sign-ins to SAML apps (authentication/sso);
//   - admin: user lifecycle, CHANGE_PASSWORD (a reset of the target
//     user's password), role and privilege grants, and security settings
//     (named ones and every event of type SECURITY_SETTINGS:
//     privilege/policy_change); others are api_activity with the verb
//     their name starts with (Decode also makes application settings of
//     the Security application policy changes);
//   - token: OAuth grants (authorize → authentication/token_issue) and
//     revocations (credential/token_revoke);
//   - drive: document access, changes and sharing (data_access);
//   - every other application (gmail, calendar, mobile, groups, …):
//     api_activity/other, a generic activity kept for search and context.
//
// Names are matched after trimming spaces, which some exports leave.
func Classify(app, eventType, name string) (event.Category, event.Activity) {
	name = strings.TrimSpace(name)
	switch app {
	case "login", "user_accounts":
		if k, ok := account[name]; ok {
			return k.c, k.a
		}
		if app == "login" {
			return event.CategoryAuthentication, event.ActivityOther
		}
		return event.CategoryAccountChange, event.ActivityOther
	case "saml":
		if name == "login_success" || name == "login_failure" {
			return event.CategoryAuthentication, event.ActivitySSO
		}
		return event.CategoryAuthentication, event.ActivityOther
	case "admin":
		if k, ok := admin[name]; ok {
			return k.c, k.a
		}
		if eventType == "SECURITY_SETTINGS" {
			return event.CategoryPrivilege, event.ActivityPolicyChange
		}
		return event.CategoryAPIActivity, adminVerb(name)
	case "token":
		switch name {
		case "authorize", "request":
			return event.CategoryAuthentication, event.ActivityTokenIssue
		case "revoke":
			return event.CategoryCredential, event.ActivityTokenRevoke
		}
		return event.CategoryAPIActivity, event.ActivityOther
	case "drive":
		if k, ok := drive[name]; ok {
			return k.c, k.a
		}
		return event.CategoryDataAccess, event.ActivityOther
	}
	return event.CategoryAPIActivity, event.ActivityOther
}

// adminVerb reads the leading word of an Admin console event name
// ("CHANGE_CALENDAR_SETTING" → update).
func adminVerb(name string) event.Activity {
	w := name
	if i := strings.IndexByte(name, '_'); i >= 0 {
		w = name[:i]
	}
	switch w {
	case "CREATE", "ADD", "INSERT":
		return event.ActivityCreate
	case "DELETE", "REMOVE":
		return event.ActivityDelete
	case "CHANGE", "UPDATE", "RENAME", "TOGGLE", "MOVE", "ENABLE", "DISABLE", "SET", "ALLOW", "ASSIGN", "UNASSIGN":
		return event.ActivityUpdate
	case "VIEW", "DOWNLOAD", "EXPORT", "GET":
		return event.ActivityRead
	case "LIST", "SEARCH":
		return event.ActivityList
	}
	return event.ActivityOther
}

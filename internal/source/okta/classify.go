package okta

import (
	"strings"

	"github.com/vigil-zt/vigil/internal/event"
)

type class struct {
	c event.Category
	a event.Activity
}

// known maps the event types detectors rely on; Classify falls back to the
// type's prefix for the hundreds of others. Signing out, by the user or by
// the session's expiry, is authentication/logout as in OCSF (Logoff is an
// Authentication activity) and the other decoders.
var known = map[string]class{
	"user.session.start":                            {event.CategoryAuthentication, event.ActivityLogin},
	"user.session.end":                              {event.CategoryAuthentication, event.ActivityLogout},
	"user.session.clear":                            {event.CategorySession, event.ActivitySessionRevoke},
	"user.session.expire":                           {event.CategoryAuthentication, event.ActivityLogout},
	"user.session.access_admin_app":                 {event.CategoryAuthentication, event.ActivitySSO},
	"user.session.context.change":                   {event.CategorySession, event.ActivityOther},
	"user.authentication.sso":                       {event.CategoryAuthentication, event.ActivitySSO},
	"user.authentication.auth_via_mfa":              {event.CategoryMFA, event.ActivityMFAVerify},
	"user.authentication.verify":                    {event.CategoryMFA, event.ActivityMFAVerify},
	"user.authentication.authenticate":              {event.CategoryAuthentication, event.ActivityLogin},
	"system.push.send_factor_verify_push":           {event.CategoryMFA, event.ActivityMFAChallenge},
	"system.sms.send_factor_verify_message":         {event.CategoryMFA, event.ActivityMFAChallenge},
	"system.voice.send_mfa_challenge_call":          {event.CategoryMFA, event.ActivityMFAChallenge},
	"system.email.send_factor_verify_message":       {event.CategoryMFA, event.ActivityMFAChallenge},
	"user.mfa.okta_verify.deny_push":                {event.CategoryMFA, event.ActivityMFADeny},
	"user.mfa.okta_verify.deny_push_upgrade_needed": {event.CategoryMFA, event.ActivityMFADeny},
	"user.mfa.factor.activate":                      {event.CategoryMFA, event.ActivityMFAEnroll},
	"user.mfa.factor.update":                        {event.CategoryMFA, event.ActivityMFAEnroll},
	"user.mfa.factor.deactivate":                    {event.CategoryMFA, event.ActivityMFARemove},
	"user.mfa.factor.suspend":                       {event.CategoryMFA, event.ActivityMFARemove},
	"user.mfa.factor.reset_all":                     {event.CategoryMFA, event.ActivityMFARemove},
	"system.mfa.factor.deactivate":                  {event.CategoryMFA, event.ActivityMFARemove},
	"user.mfa.attempt_bypass":                       {event.CategoryMFA, event.ActivityOther},
	"user.account.reset_password":                   {event.CategoryAccountChange, event.ActivityPasswordReset},
	"user.account.update_password":                  {event.CategoryAccountChange, event.ActivityPasswordChange},
	"user.account.lock":                             {event.CategoryAccountChange, event.ActivityLock},
	"user.account.lock.limit":                       {event.CategoryAccountChange, event.ActivityLock},
	"user.account.unlock":                           {event.CategoryAccountChange, event.ActivityUnlock},
	"user.account.unlock_by_admin":                  {event.CategoryAccountChange, event.ActivityUnlock},
	"user.account.update_profile":                   {event.CategoryAccountChange, event.ActivityUpdate},
	"user.account.privilege.grant":                  {event.CategoryPrivilege, event.ActivityGrant},
	"user.account.privilege.revoke":                 {event.CategoryPrivilege, event.ActivityRevoke},
	"group.privilege.grant":                         {event.CategoryPrivilege, event.ActivityGrant},
	"group.privilege.revoke":                        {event.CategoryPrivilege, event.ActivityRevoke},
	"iam.resourceset.bindings.add":                  {event.CategoryPrivilege, event.ActivityGrant},
	"iam.resourceset.bindings.delete":               {event.CategoryPrivilege, event.ActivityRevoke},
	"group.user_membership.add":                     {event.CategoryPrivilege, event.ActivityGrant},
	"group.user_membership.remove":                  {event.CategoryPrivilege, event.ActivityRevoke},
	"application.user_membership.add":               {event.CategoryPrivilege, event.ActivityGrant},
	"application.user_membership.remove":            {event.CategoryPrivilege, event.ActivityRevoke},
	"user.lifecycle.create":                         {event.CategoryAccountChange, event.ActivityCreate},
	"user.lifecycle.activate":                       {event.CategoryAccountChange, event.ActivityEnable},
	"user.lifecycle.reactivate":                     {event.CategoryAccountChange, event.ActivityEnable},
	"user.lifecycle.unsuspend":                      {event.CategoryAccountChange, event.ActivityEnable},
	"user.lifecycle.deactivate":                     {event.CategoryAccountChange, event.ActivityDisable},
	"user.lifecycle.suspend":                        {event.CategoryAccountChange, event.ActivityDisable},
	"user.lifecycle.delete.initiated":               {event.CategoryAccountChange, event.ActivityDelete},
	"user.lifecycle.delete.completed":               {event.CategoryAccountChange, event.ActivityDelete},
	"user.lifecycle.password_mass_expiry":           {event.CategoryAccountChange, event.ActivityPasswordReset},
	"user.account.recovery":                         {event.CategoryAccountChange, event.ActivityRecovery},
	"self_service.recovery":                         {event.CategoryAccountChange, event.ActivityRecovery},
	"user.session.impersonation.grant":              {event.CategorySession, event.ActivityImpersonate},
	"user.session.impersonation.initiate":           {event.CategorySession, event.ActivityImpersonate},
	"user.session.impersonation.begin":              {event.CategorySession, event.ActivityImpersonate},
	"user.session.impersonation.extend":             {event.CategorySession, event.ActivityImpersonate},
	"user.session.impersonation.end":                {event.CategorySession, event.ActivityImpersonate},
	"system.api_token.create":                       {event.CategoryCredential, event.ActivityTokenCreate},
	"system.api_token.revoke":                       {event.CategoryCredential, event.ActivityTokenRevoke},
	"app.oauth2.as.token.revoke":                    {event.CategorySession, event.ActivitySessionRevoke},
	"app.oauth2.token.revoke":                       {event.CategorySession, event.ActivitySessionRevoke},
	"app.oauth2.as.token.grant.refresh_token":       {event.CategoryAuthentication, event.ActivityTokenRefresh},
	"app.oauth2.token.grant.refresh_token":          {event.CategoryAuthentication, event.ActivityTokenRefresh},
	"app.oauth2.token.detect_reuse":                 {event.CategorySession, event.ActivityTokenRefresh},
	"app.oauth2.as.token.detect_reuse":              {event.CategorySession, event.ActivityTokenRefresh},
	"policy.evaluate_sign_on":                       {event.CategoryAuthentication, event.ActivityPolicyEvaluate},
	"app.generic.unauth_app_access_attempt":         {event.CategoryAuthentication, event.ActivitySSO},
}

// Classify maps an Okta event type to a category and activity.
func Classify(eventType string) (event.Category, event.Activity) {
	if c, ok := known[eventType]; ok {
		return c.c, c.a
	}
	t := eventType
	switch {
	case strings.HasPrefix(t, "user.session."):
		return event.CategorySession, event.ActivityOther
	case strings.HasPrefix(t, "user.authentication.auth_via_"):
		return event.CategoryAuthentication, event.ActivityLogin
	case strings.HasPrefix(t, "user.authentication."):
		return event.CategoryAuthentication, event.ActivityOther
	case strings.HasPrefix(t, "user.mfa.") || strings.HasPrefix(t, "user.factor.") || strings.HasPrefix(t, "system.mfa."):
		return event.CategoryMFA, event.ActivityOther
	case strings.HasPrefix(t, "user.account.") || strings.HasPrefix(t, "user.lifecycle."):
		return event.CategoryAccountChange, verb(t)
	case strings.HasPrefix(t, "system.api_token."):
		return event.CategoryCredential, verb(t)
	case strings.HasPrefix(t, "app.oauth2.") && strings.Contains(t, ".token.grant"):
		return event.CategoryAuthentication, event.ActivityTokenIssue
	case strings.HasPrefix(t, "app.oauth2."):
		return event.CategoryAuthentication, event.ActivityOther
	case strings.HasPrefix(t, "policy.") || strings.HasPrefix(t, "zone.") || strings.HasPrefix(t, "system.idp.") ||
		strings.HasPrefix(t, "security.authenticator.") || strings.HasPrefix(t, "network_zone."):
		return event.CategoryPrivilege, event.ActivityPolicyChange
	case strings.Contains(t, ".privilege.") || strings.HasPrefix(t, "iam.role.") || strings.HasPrefix(t, "iam.resourceset."):
		return event.CategoryPrivilege, verb(t)
	case strings.HasPrefix(t, "group.") || strings.HasPrefix(t, "application.") || strings.HasPrefix(t, "system.") ||
		strings.HasPrefix(t, "app.") || strings.HasPrefix(t, "device.") || strings.HasPrefix(t, "org."):
		return event.CategoryAPIActivity, verb(t)
	}
	return event.CategoryOther, event.ActivityOther
}

// verb reads the common last segments of Okta event types.
func verb(t string) event.Activity {
	last := t[strings.LastIndexByte(t, '.')+1:]
	switch last {
	case "create", "add", "activate":
		return event.ActivityCreate
	case "delete", "remove", "deactivate", "completed":
		return event.ActivityDelete
	case "update", "modify", "change":
		return event.ActivityUpdate
	case "grant":
		return event.ActivityGrant
	case "revoke":
		return event.ActivityRevoke
	case "read", "get", "view", "export":
		return event.ActivityRead
	case "list", "search":
		return event.ActivityList
	}
	return event.ActivityOther
}

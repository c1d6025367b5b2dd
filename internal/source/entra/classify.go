package entra

import (
	"strings"

	"github.com/vigil-zt/vigil/internal/event"
)

type class struct {
	c event.Category
	a event.Activity
}

// known maps the audit activities detectors rely on, spelled as Entra
// writes activityDisplayName; Classify falls back to keywords and then to
// operationType for the hundreds of others.
var known = map[string]class{
	// Directory and app roles, groups, ownership and consent: who may do what.
	"Add member to role":                              {event.CategoryPrivilege, event.ActivityGrant},
	"Add eligible member to role":                     {event.CategoryPrivilege, event.ActivityGrant},
	"Add scoped member to role":                       {event.CategoryPrivilege, event.ActivityGrant},
	"Add member to role in PIM completed (permanent)": {event.CategoryPrivilege, event.ActivityGrant},
	"Add member to role in PIM completed (timebound)": {event.CategoryPrivilege, event.ActivityGrant},
	"Add member to role completed (PIM activation)":   {event.CategoryPrivilege, event.ActivityGrant},
	"Add eligible member (permanent)":                 {event.CategoryPrivilege, event.ActivityGrant},
	"Add eligible member (eligible)":                  {event.CategoryPrivilege, event.ActivityGrant},
	"Add app role assignment to service principal":    {event.CategoryPrivilege, event.ActivityGrant},
	"Add app role assignment grant to user":           {event.CategoryPrivilege, event.ActivityGrant},
	"Add delegated permission grant":                  {event.CategoryPrivilege, event.ActivityGrant},
	"Consent to application":                          {event.CategoryPrivilege, event.ActivityGrant},
	"Add member to group":                             {event.CategoryPrivilege, event.ActivityGrant},
	"Add owner to application":                        {event.CategoryPrivilege, event.ActivityGrant},
	"Add owner to service principal":                  {event.CategoryPrivilege, event.ActivityGrant},
	"Add owner to group":                              {event.CategoryPrivilege, event.ActivityGrant},
	"User has elevated their access to User Access Administrator for their Azure Resources": {
		event.CategoryPrivilege, event.ActivityGrant},
	"Remove member from role":                           {event.CategoryPrivilege, event.ActivityRevoke},
	"Remove eligible member from role":                  {event.CategoryPrivilege, event.ActivityRevoke},
	"Remove scoped member from role":                    {event.CategoryPrivilege, event.ActivityRevoke},
	"Remove eligible member (permanent)":                {event.CategoryPrivilege, event.ActivityRevoke},
	"Remove eligible member (eligible)":                 {event.CategoryPrivilege, event.ActivityRevoke},
	"Remove app role assignment from service principal": {event.CategoryPrivilege, event.ActivityRevoke},
	"Remove delegated permission grant":                 {event.CategoryPrivilege, event.ActivityRevoke},
	"Remove member from group":                          {event.CategoryPrivilege, event.ActivityRevoke},
	"Remove owner from application":                     {event.CategoryPrivilege, event.ActivityRevoke},
	"Remove owner from service principal":               {event.CategoryPrivilege, event.ActivityRevoke},
	"Delete role assignment":                            {event.CategoryPrivilege, event.ActivityRevoke},
	"Remove role assignment":                            {event.CategoryPrivilege, event.ActivityRevoke},

	// Accounts and passwords.
	"Add user":                       {event.CategoryAccountChange, event.ActivityCreate},
	"Invite external user":           {event.CategoryAccountChange, event.ActivityCreate},
	"Invite internal user":           {event.CategoryAccountChange, event.ActivityCreate},
	"Delete user":                    {event.CategoryAccountChange, event.ActivityDelete},
	"Hard delete user":               {event.CategoryAccountChange, event.ActivityDelete},
	"Restore user":                   {event.CategoryAccountChange, event.ActivityEnable},
	"Update user":                    {event.CategoryAccountChange, event.ActivityUpdate},
	"Redeem external user invite":    {event.CategoryAccountChange, event.ActivityUpdate},
	"Disable account":                {event.CategoryAccountChange, event.ActivityDisable},
	"Enable account":                 {event.CategoryAccountChange, event.ActivityEnable},
	"Reset user password":            {event.CategoryAccountChange, event.ActivityPasswordReset},
	"Reset password (by admin)":      {event.CategoryAccountChange, event.ActivityPasswordReset},
	"Set force change user password": {event.CategoryAccountChange, event.ActivityPasswordReset},
	"Reset password (self-service)":  {event.CategoryAccountChange, event.ActivityRecovery},
	"Change user password":           {event.CategoryAccountChange, event.ActivityPasswordChange},
	"Change password (self-service)": {event.CategoryAccountChange, event.ActivityPasswordChange},

	// Factors. Per-user MFA being disabled removes the factor requirement.
	"User registered security info":              {event.CategoryMFA, event.ActivityMFAEnroll},
	"User registered all required security info": {event.CategoryMFA, event.ActivityMFAEnroll},
	"Admin registered security info":             {event.CategoryMFA, event.ActivityMFAEnroll},
	"User deleted security info":                 {event.CategoryMFA, event.ActivityMFARemove},
	"Admin deleted security info":                {event.CategoryMFA, event.ActivityMFARemove},
	"Reset security info":                        {event.CategoryMFA, event.ActivityMFARemove},
	"Disable Strong Authentication":              {event.CategoryMFA, event.ActivityMFARemove},
	"Enable Strong Authentication":               {event.CategoryMFA, event.ActivityEnable},

	// Application and service principal secrets and certificates.
	"Add service principal credentials":                        {event.CategoryCredential, event.ActivityKeyCreate},
	"Remove service principal credentials":                     {event.CategoryCredential, event.ActivityKeyDelete},
	"Update application – Certificates and secrets management": {event.CategoryCredential, event.ActivityKeyCreate},
	"Update application - Certificates and secrets management": {event.CategoryCredential, event.ActivityKeyCreate},

	// Sessions. Entra logs the refresh-token cut-off moving on revocation.
	"Revoke sign-in sessions":                   {event.CategorySession, event.ActivitySessionRevoke},
	"Invalidate all refresh tokens for a user":  {event.CategorySession, event.ActivitySessionRevoke},
	"Update StsRefreshTokenValidFrom Timestamp": {event.CategorySession, event.ActivitySessionRevoke},

	// Policies that decide who gets in and how.
	"Add conditional access policy":        {event.CategoryPrivilege, event.ActivityPolicyChange},
	"Update conditional access policy":     {event.CategoryPrivilege, event.ActivityPolicyChange},
	"Delete conditional access policy":     {event.CategoryPrivilege, event.ActivityPolicyChange},
	"Set federation settings on domain":    {event.CategoryPrivilege, event.ActivityPolicyChange},
	"Set domain authentication":            {event.CategoryPrivilege, event.ActivityPolicyChange},
	"Update authentication methods policy": {event.CategoryPrivilege, event.ActivityPolicyChange},
	"Authentication Methods Policy Update": {event.CategoryPrivilege, event.ActivityPolicyChange},
	"Update role setting in PIM":           {event.CategoryPrivilege, event.ActivityPolicyChange},
	"Disable PIM Alert":                    {event.CategoryPrivilege, event.ActivityPolicyChange},

	// Secrets read out of the directory.
	"Read BitLocker key":                          {event.CategoryDataAccess, event.ActivityRead},
	"Recover device local administrator password": {event.CategoryDataAccess, event.ActivityRead},
	"Read device local administrator password":    {event.CategoryDataAccess, event.ActivityRead},
}

// classify is Classify cached per (activity, operationType): the keyword
// rules lower-case the activity, which would allocate on every record.
func (d *Decoder) classify(activity, operationType string) (event.Category, event.Activity) {
	k := classKey{activity, operationType}
	if c, ok := d.class[k]; ok {
		return c.c, c.a
	}
	cat, act := Classify(activity, operationType)
	if len(d.class) > 4096 {
		clear(d.class)
	}
	d.class[k] = class{cat, act}
	return cat, act
}

// Classify maps an Entra audit activity (activityDisplayName) and its
// operationType (Add, Update, Delete, Assign, Unassign, Other) to a
// category and activity.
func Classify(activity, operationType string) (event.Category, event.Activity) {
	// Entra writes some names with a trailing space ("Update application –
	// Certificates and secrets management ").
	if c, ok := known[strings.TrimSpace(activity)]; ok {
		return c.c, c.a
	}
	a := strings.ToLower(activity)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(a, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("security info"):
		switch {
		case has("delet", "remov", "reset"):
			return event.CategoryMFA, event.ActivityMFARemove
		case has("regist"):
			return event.CategoryMFA, event.ActivityMFAEnroll
		case has("updat", "chang"):
			return event.CategoryMFA, event.ActivityUpdate
		}
		return event.CategoryMFA, event.ActivityOther
	case has("strong authentication"):
		if has("disable", "delete", "remove", "reset") {
			return event.CategoryMFA, event.ActivityMFARemove
		}
		return event.CategoryMFA, verb(operationType)
	case has("sign-in session", "refresh token") || (has("revoke") && has("session")):
		return event.CategorySession, event.ActivitySessionRevoke
	case has("bitlocker key", "local administrator password"):
		return event.CategoryDataAccess, event.ActivityRead
	case has("conditional access", "policy", "policies", "named location", "federation", "domain authentication",
		"cross-tenant access", "authentication method", "role setting", "pim alert", "security defaults"):
		return event.CategoryPrivilege, event.ActivityPolicyChange
	case has("credential", "certificates and secrets"):
		switch {
		case has("remov", "delet"):
			return event.CategoryCredential, event.ActivityKeyDelete
		case has("updat"):
			return event.CategoryCredential, event.ActivityKeyUpdate
		}
		return event.CategoryCredential, event.ActivityKeyCreate
	case has("password"):
		switch {
		case has("self-service") && has("reset"):
			return event.CategoryAccountChange, event.ActivityRecovery
		case has("reset", "force change"):
			return event.CategoryAccountChange, event.ActivityPasswordReset
		}
		return event.CategoryAccountChange, event.ActivityPasswordChange
	case has("member to role", "member from role", "eligible member", "role assignment", "permission grant",
		"owner to ", "owner from ", "member to group", "member from group", "consent to", "elevated their access",
		"member to administrative unit", "member from administrative unit"):
		switch {
		case has("remov", "delet", "revok", "unassign"):
			return event.CategoryPrivilege, event.ActivityRevoke
		case has(" requested", "request "):
			return event.CategoryPrivilege, event.ActivityOther // asked for, not yet granted
		case has("add", "assign", "consent", "elevat", "grant", "activat"):
			return event.CategoryPrivilege, event.ActivityGrant
		}
		return event.CategoryPrivilege, event.ActivityOther
	case strings.HasSuffix(a, " user"):
		return event.CategoryAccountChange, verb(operationType)
	}
	return event.CategoryAPIActivity, verb(operationType)
}

// verb reads Entra's operationType.
func verb(operationType string) event.Activity {
	switch strings.ToLower(operationType) {
	case "add", "create":
		return event.ActivityCreate
	case "update":
		return event.ActivityUpdate
	case "delete", "remove":
		return event.ActivityDelete
	case "assign":
		return event.ActivityGrant
	case "unassign":
		return event.ActivityRevoke
	}
	return event.ActivityOther
}

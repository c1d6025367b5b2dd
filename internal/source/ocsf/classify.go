package ocsf

import "github.com/vigil-zt/vigil/internal/event"

type activity struct {
	name string // OCSF activity_name, for records that give only the id
	c    event.Category
	a    event.Activity
}

type class struct {
	name string // OCSF class_name
	c    event.Category
	acts map[int64]activity
}

// The OCSF 1.x classes Vigil maps. Activity 0 (Unknown) and 99 (Other)
// are common to all and map to the class's category with activity other.
var classes = map[int64]class{
	3001: {"Account Change", event.CategoryAccountChange, map[int64]activity{
		1:  {"Create", event.CategoryAccountChange, event.ActivityCreate},
		2:  {"Enable", event.CategoryAccountChange, event.ActivityEnable},
		3:  {"Password Change", event.CategoryAccountChange, event.ActivityPasswordChange},
		4:  {"Password Reset", event.CategoryAccountChange, event.ActivityPasswordReset},
		5:  {"Disable", event.CategoryAccountChange, event.ActivityDisable},
		6:  {"Delete", event.CategoryAccountChange, event.ActivityDelete},
		7:  {"Attach Policy", event.CategoryPrivilege, event.ActivityGrant},
		8:  {"Detach Policy", event.CategoryPrivilege, event.ActivityRevoke},
		9:  {"Lock", event.CategoryAccountChange, event.ActivityLock},
		10: {"MFA Factor Enable", event.CategoryMFA, event.ActivityMFAEnroll},
		11: {"MFA Factor Disable", event.CategoryMFA, event.ActivityMFARemove},
		12: {"Unlock", event.CategoryAccountChange, event.ActivityUnlock},
	}},
	3002: {"Authentication", event.CategoryAuthentication, map[int64]activity{
		1: {"Logon", event.CategoryAuthentication, event.ActivityLogin},
		2: {"Logoff", event.CategoryAuthentication, event.ActivityLogout},
		3: {"Authentication Ticket", event.CategoryAuthentication, event.ActivityTokenIssue},
		4: {"Service Ticket Request", event.CategoryAuthentication, event.ActivityTokenIssue},
		5: {"Service Ticket Renew", event.CategoryAuthentication, event.ActivityTokenRefresh},
		6: {"Preauth", event.CategoryAuthentication, event.ActivityOther},
	}},
	// Privileges or groups given to a new logon session.
	3003: {"Authorize Session", event.CategorySession, map[int64]activity{
		1: {"Assign Privileges", event.CategorySession, event.ActivityGrant},
		2: {"Assign Groups", event.CategorySession, event.ActivityGrant},
	}},
	3005: {"User Access Management", event.CategoryPrivilege, map[int64]activity{
		1: {"Assign Privileges", event.CategoryPrivilege, event.ActivityGrant},
		2: {"Revoke Privileges", event.CategoryPrivilege, event.ActivityRevoke},
	}},
	// Group membership is privilege, as Okta's group.user_membership.add.
	3006: {"Group Management", event.CategoryPrivilege, map[int64]activity{
		1: {"Assign Privileges", event.CategoryPrivilege, event.ActivityGrant},
		2: {"Revoke Privileges", event.CategoryPrivilege, event.ActivityRevoke},
		3: {"Add User", event.CategoryPrivilege, event.ActivityGrant},
		4: {"Remove User", event.CategoryPrivilege, event.ActivityRevoke},
		5: {"Delete", event.CategoryPrivilege, event.ActivityDelete},
		6: {"Create", event.CategoryPrivilege, event.ActivityCreate},
	}},
	6003: {"API Activity", event.CategoryAPIActivity, map[int64]activity{
		1: {"Create", event.CategoryAPIActivity, event.ActivityCreate},
		2: {"Read", event.CategoryAPIActivity, event.ActivityRead},
		3: {"Update", event.CategoryAPIActivity, event.ActivityUpdate},
		4: {"Delete", event.CategoryAPIActivity, event.ActivityDelete},
	}},
	6005: {"Datastore Activity", event.CategoryDataAccess, map[int64]activity{
		1:  {"Read", event.CategoryDataAccess, event.ActivityRead},
		2:  {"Update", event.CategoryDataAccess, event.ActivityUpdate},
		3:  {"Connect", event.CategoryDataAccess, event.ActivityOther},
		4:  {"Query", event.CategoryDataAccess, event.ActivityRead},
		5:  {"Write", event.CategoryDataAccess, event.ActivityWrite},
		6:  {"Create", event.CategoryDataAccess, event.ActivityCreate},
		7:  {"Delete", event.CategoryDataAccess, event.ActivityDelete},
		8:  {"List", event.CategoryDataAccess, event.ActivityList},
		9:  {"Encrypt", event.CategoryDataAccess, event.ActivityOther},
		10: {"Decrypt", event.CategoryDataAccess, event.ActivityOther},
	}},
}

// Classify maps an OCSF class_uid and activity_id to a category and
// activity. Account Change's Attach/Detach Policy are privilege grants and
// revocations and its MFA Factor Enable/Disable are mfa_enroll/mfa_remove;
// Logoff is authentication/logout, so that an OCSF exporter maps it back
// to 3002; classes Vigil does not map are other/other.
func Classify(classUID, activityID int64) (event.Category, event.Activity) {
	k, ok := classes[classUID]
	if !ok {
		return event.CategoryOther, event.ActivityOther
	}
	if a, ok := k.acts[activityID]; ok {
		return a.c, a.a
	}
	return k.c, event.ActivityOther
}

// names returns the class and activity names OCSF gives the ids.
func names(classUID, activityID int64) (className, activityName string) {
	k, ok := classes[classUID]
	if !ok {
		return "", activityFallbackName(activityID)
	}
	if a, ok := k.acts[activityID]; ok {
		return k.name, a.name
	}
	return k.name, activityFallbackName(activityID)
}

func activityFallbackName(id int64) string {
	switch id {
	case 0:
		return "Unknown"
	case 99:
		return "Other"
	}
	return ""
}

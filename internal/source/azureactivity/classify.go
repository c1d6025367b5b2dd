package azureactivity

import (
	"strings"

	"github.com/vigil-zt/vigil/internal/event"
)

type class struct {
	c event.Category
	a event.Activity
}

// classify is Classify or ClassifyStorage cached per (operation,
// category): operation names come in any case and lower-casing them would
// allocate on every record.
func (d *Decoder) classify(k kind, operation, category string) (event.Category, event.Activity) {
	key := classKey{operation, category, k}
	if c, ok := d.class[key]; ok {
		return c.c, c.a
	}
	var c event.Category
	var a event.Activity
	if k == kindStorage {
		c, a = ClassifyStorage(operation, category)
	} else {
		c, a = Classify(operation, category)
	}
	if len(d.class) > 4096 {
		clear(d.class)
	}
	d.class[key] = class{c, a}
	return c, a
}

// Classify maps an Activity Log operation ("Microsoft.Authorization/
// roleAssignments/write") and its category to a category and activity.
// Role assignments are privilege grants and revocations and role
// definitions privilege policy; elevateAccess grants User Access
// Administrator at the root; key regeneration is a credential update.
// Other Administrative and Policy operations are API activity named by
// their last segment. Records of the Security, ServiceHealth,
// ResourceHealth, Alert, Autoscale and Recommendation categories are
// Azure's own notices, not calls, and are other/other.
func Classify(operation, category string) (event.Category, event.Activity) {
	switch strings.ToLower(category) {
	case "security", "servicehealth", "resourcehealth", "alert", "autoscale", "recommendation":
		return event.CategoryOther, event.ActivityOther
	}
	op := strings.ToLower(strings.TrimSpace(operation))
	switch op {
	case "microsoft.authorization/roleassignments/write":
		return event.CategoryPrivilege, event.ActivityGrant
	case "microsoft.authorization/roleassignments/delete":
		return event.CategoryPrivilege, event.ActivityRevoke
	case "microsoft.authorization/roledefinitions/write", "microsoft.authorization/roledefinitions/delete":
		return event.CategoryPrivilege, event.ActivityPolicyChange
	case "microsoft.authorization/elevateaccess/action":
		return event.CategoryPrivilege, event.ActivityGrant
	}
	segs := strings.Split(op, "/")
	last := segs[len(segs)-1]
	prev := ""
	if len(segs) > 1 {
		prev = segs[len(segs)-2]
	}
	switch last {
	case "write":
		return event.CategoryAPIActivity, event.ActivityWrite
	case "delete":
		return event.CategoryAPIActivity, event.ActivityDelete
	case "read":
		return event.CategoryAPIActivity, event.ActivityRead
	case "action":
		switch prev {
		case "regeneratekey", "regeneratekeys", "regenerateaccesskey":
			return event.CategoryCredential, event.ActivityKeyUpdate
		case "read", "listkeys", "listsecrets", "getsecret", "listcredentials", "listaccountsas",
			"listservicesas", "listclusteradmincredential", "listclusterusercredential":
			// Actions that return keys or secrets are reads of them.
			return event.CategoryAPIActivity, event.ActivityRead
		}
	}
	return event.CategoryAPIActivity, event.ActivityOther
}

// ClassifyKube maps a Kubernetes audit verb on a resource: RBAC bindings
// are privilege grants and revocations, roles privilege policy, service
// account tokens and certificate signing requests credentials; everything
// else is API activity named by the verb.
func ClassifyKube(verb, resource, subresource string) (event.Category, event.Activity) {
	write := verb == "create" || verb == "update" || verb == "patch"
	del := verb == "delete" || verb == "deletecollection"
	switch {
	case (resource == "rolebindings" || resource == "clusterrolebindings") && subresource == "":
		if write {
			return event.CategoryPrivilege, event.ActivityGrant
		}
		if del {
			return event.CategoryPrivilege, event.ActivityRevoke
		}
	case (resource == "roles" || resource == "clusterroles") && subresource == "":
		if write || del {
			return event.CategoryPrivilege, event.ActivityPolicyChange
		}
	case resource == "serviceaccounts" && subresource == "token" && verb == "create":
		return event.CategoryCredential, event.ActivityTokenCreate
	case resource == "certificatesigningrequests" && subresource == "" && verb == "create":
		return event.CategoryCredential, event.ActivityKeyCreate
	}
	switch verb {
	case "get", "watch":
		return event.CategoryAPIActivity, event.ActivityRead
	case "list":
		return event.CategoryAPIActivity, event.ActivityList
	case "create":
		return event.CategoryAPIActivity, event.ActivityCreate
	case "update", "patch":
		return event.CategoryAPIActivity, event.ActivityUpdate
	case "delete", "deletecollection":
		return event.CategoryAPIActivity, event.ActivityDelete
	case "impersonate":
		return event.CategorySession, event.ActivityImpersonate
	}
	return event.CategoryAPIActivity, event.ActivityOther
}

// ClassifyStorage maps a Storage operation (GetBlob, PutBlob, …) to
// data access, falling back to the category (StorageRead, StorageWrite,
// StorageDelete). Setting a container ACL can make it public: a share.
func ClassifyStorage(operation, category string) (event.Category, event.Activity) {
	op := strings.ToLower(operation)
	switch {
	case op == "setcontaineracl" || op == "setshareacl":
		return event.CategoryDataAccess, event.ActivityShare
	case strings.HasPrefix(op, "delete"):
		return event.CategoryDataAccess, event.ActivityDelete
	case strings.HasPrefix(op, "list"):
		return event.CategoryDataAccess, event.ActivityList
	case strings.HasPrefix(op, "get"), strings.HasPrefix(op, "head"), strings.HasPrefix(op, "query"),
		strings.HasPrefix(op, "read"), strings.HasPrefix(op, "peek"):
		return event.CategoryDataAccess, event.ActivityRead
	case strings.HasPrefix(op, "put"), strings.HasPrefix(op, "append"), strings.HasPrefix(op, "copy"),
		strings.HasPrefix(op, "create"), strings.HasPrefix(op, "set"), strings.HasPrefix(op, "upload"),
		strings.HasPrefix(op, "flush"), strings.HasPrefix(op, "write"), strings.HasPrefix(op, "update"),
		strings.HasPrefix(op, "insert"), strings.HasPrefix(op, "merge"), strings.HasPrefix(op, "snapshot"),
		strings.HasPrefix(op, "undelete"), strings.HasPrefix(op, "rename"):
		return event.CategoryDataAccess, event.ActivityWrite
	}
	switch strings.ToLower(category) {
	case "storageread":
		return event.CategoryDataAccess, event.ActivityRead
	case "storagewrite":
		return event.CategoryDataAccess, event.ActivityWrite
	case "storagedelete":
		return event.CategoryDataAccess, event.ActivityDelete
	}
	return event.CategoryDataAccess, event.ActivityOther
}

// Package ssf is Vigil's OpenID Shared Signals Framework 1.0 transmitter: it
// turns what Vigil does (sessions revoked, credentials deactivated, risk
// levels changed) into CAEP 1.0 Security Event Tokens (RFC 8417), signs them
// with a key it keeps and rotates, and delivers them to registered receivers
// by push (RFC 8935) or poll (RFC 8936). Receivers discover it through
// /.well-known/ssf-configuration and manage their streams, subjects, status
// and verification through the SSF stream management API.
//
// The package owns the protocol; persistence is the Store interface, which
// the service's store implements, and receiver authentication is an
// Authorizer the service supplies.
package ssf

// Package archtest enforces the architecture's rules with tests: which
// packages may import which, and that every package says what it is for.
package archtest

// Package web holds the console's templates and static assets, embedded
// in the binary: the console works offline and needs no CDN. The server
// package renders the templates (internal/server/console.go).
package web

import "embed"

// FS holds templates/*.html and static/*.
//
//go:embed templates static
var FS embed.FS

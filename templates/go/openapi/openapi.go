// Package openapi holds the OpenAPI 3.1 description of {{ p.name }}'s HTTP
// API, generated from the proto with the server's own transcoding rules.
package openapi

import (
	_ "embed"
	"net/http"
)

// Document is openapi.json.
//
//go:embed openapi.json
var Document []byte

// Handler serves the document.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(Document)
	})
}

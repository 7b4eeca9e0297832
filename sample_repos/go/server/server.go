// Package server exposes the store over HTTP.
package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"example.com/kvstore/store"
)

// Handler serves GET, PUT and DELETE on /keys/{key}.
type Handler struct {
	Store   *store.Store
	MaxBody int64
}

// ServeHTTP routes a request to the matching key operation.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/keys/")
	if key == "" || key == r.URL.Path {
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet:
		h.get(w, key)
	case http.MethodPut:
		h.put(w, r, key)
	case http.MethodDelete:
		h.Store.Delete(key)
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, PUT, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (h *Handler) get(w http.ResponseWriter, key string) {
	value, err := h.Store.Get(key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	w.Write(value)
}

// put stores the request body under the key, honouring a ttl query parameter in seconds.
func (h *Handler) put(w http.ResponseWriter, r *http.Request, key string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, h.MaxBody))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	ttl, _ := time.ParseDuration(r.URL.Query().Get("ttl") + "s")
	h.Store.Set(key, body, ttl)
	w.WriteHeader(http.StatusCreated)
}

// WriteJSON encodes a value as a JSON response with the given status code.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// Package store implements an in-memory key-value store with expiry.
package store

import (
	"errors"
	"sync"
	"time"
)

// ErrNotFound is returned when a key does not exist or has expired.
var ErrNotFound = errors.New("key not found")

type entry struct {
	value     []byte
	expiresAt time.Time
}

// Store is a concurrency-safe map of keys to byte values with optional TTLs.
type Store struct {
	mu   sync.RWMutex
	data map[string]entry
	now  func() time.Time
}

// New creates an empty store.
func New() *Store {
	return &Store{data: make(map[string]entry), now: time.Now}
}

// Set stores a value; a positive ttl makes the key expire after that duration.
func (s *Store) Set(key string, value []byte, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := entry{value: value}
	if ttl > 0 {
		e.expiresAt = s.now().Add(ttl)
	}
	s.data[key] = e
}

// Get returns the value of a key, or ErrNotFound if it is missing or expired.
func (s *Store) Get(key string) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.data[key]
	if !ok || (!e.expiresAt.IsZero() && s.now().After(e.expiresAt)) {
		return nil, ErrNotFound
	}
	return e.value, nil
}

// Delete removes a key and reports whether it existed.
func (s *Store) Delete(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.data[key]
	delete(s.data, key)
	return ok
}

// PurgeExpired deletes every expired key and returns how many were removed.
func (s *Store) PurgeExpired() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	removed := 0
	now := s.now()
	for k, e := range s.data {
		if !e.expiresAt.IsZero() && now.After(e.expiresAt) {
			delete(s.data, k)
			removed++
		}
	}
	return removed
}

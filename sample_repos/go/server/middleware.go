package server

import (
	"log"
	"net/http"
	"sync"
	"time"
)

// Logging wraps a handler and logs method, path and duration of every request.
func Logging(next http.Handler, logger *log.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		logger.Printf("%s %s %s", r.Method, r.URL.Path, time.Since(start))
	})
}

// RateLimiter allows a fixed number of requests per client IP in each window.
type RateLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	counts map[string]int
	reset  time.Time
}

// NewRateLimiter creates a limiter for limit requests per window.
func NewRateLimiter(limit int, window time.Duration) *RateLimiter {
	return &RateLimiter{limit: limit, window: window, counts: map[string]int{}, reset: time.Now().Add(window)}
}

// Allow reports whether the client may make another request now.
func (rl *RateLimiter) Allow(client string) bool {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if time.Now().After(rl.reset) {
		rl.counts = map[string]int{}
		rl.reset = time.Now().Add(rl.window)
	}
	rl.counts[client]++
	return rl.counts[client] <= rl.limit
}

// Middleware rejects requests over the limit with 429 Too Many Requests.
func (rl *RateLimiter) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !rl.Allow(r.RemoteAddr) {
			http.Error(w, "too many requests", http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}

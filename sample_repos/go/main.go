package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	"example.com/kvstore/server"
	"example.com/kvstore/store"
)

// Config holds the command-line settings of the server.
type Config struct {
	Addr    string
	MaxBody int64
}

// parseFlags reads the listen address and body limit from the command line.
func parseFlags(args []string) (Config, error) {
	fs := flag.NewFlagSet("kvstore", flag.ContinueOnError)
	cfg := Config{}
	fs.StringVar(&cfg.Addr, "addr", ":8080", "listen address")
	fs.Int64Var(&cfg.MaxBody, "max-body", 1<<20, "largest accepted value in bytes")
	return cfg, fs.Parse(args)
}

// startJanitor purges expired keys from the store at a fixed interval until stop is closed.
func startJanitor(s *store.Store, every time.Duration, stop <-chan struct{}) {
	ticker := time.NewTicker(every)
	go func() {
		defer ticker.Stop()
		for {
			select {
			case <-ticker.C:
				s.PurgeExpired()
			case <-stop:
				return
			}
		}
	}()
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		log.Fatal(err)
	}
	s := store.New()
	startJanitor(s, time.Minute, make(chan struct{}))
	limiter := server.NewRateLimiter(100, time.Second)
	h := &server.Handler{Store: s, MaxBody: cfg.MaxBody}
	logger := log.New(os.Stderr, "kvstore ", log.LstdFlags)
	log.Fatal(http.ListenAndServe(cfg.Addr, server.Logging(limiter.Middleware(h), logger)))
}

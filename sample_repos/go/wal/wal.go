// Package wal is a write-ahead log that makes store updates durable.
package wal

import (
	"bufio"
	"encoding/binary"
	"hash/crc32"
	"io"
	"os"
)

// Log appends records to a file, each framed with its length and a CRC32 checksum.
type Log struct {
	f *os.File
	w *bufio.Writer
}

// Open opens or creates the log file for appending.
func Open(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &Log{f: f, w: bufio.NewWriter(f)}, nil
}

// Append writes one record and flushes it to disk with fsync.
func (l *Log) Append(record []byte) error {
	var header [8]byte
	binary.LittleEndian.PutUint32(header[0:4], uint32(len(record)))
	binary.LittleEndian.PutUint32(header[4:8], crc32.ChecksumIEEE(record))
	if _, err := l.w.Write(header[:]); err != nil {
		return err
	}
	if _, err := l.w.Write(record); err != nil {
		return err
	}
	if err := l.w.Flush(); err != nil {
		return err
	}
	return l.f.Sync()
}

// Replay reads every intact record from the start of the log and stops at the first torn or corrupt one.
func Replay(r io.Reader, apply func([]byte) error) error {
	br := bufio.NewReader(r)
	for {
		var header [8]byte
		if _, err := io.ReadFull(br, header[:]); err != nil {
			return nil
		}
		size := binary.LittleEndian.Uint32(header[0:4])
		sum := binary.LittleEndian.Uint32(header[4:8])
		record := make([]byte, size)
		if _, err := io.ReadFull(br, record); err != nil || crc32.ChecksumIEEE(record) != sum {
			return nil
		}
		if err := apply(record); err != nil {
			return err
		}
	}
}

// Close flushes buffered records and closes the file.
func (l *Log) Close() error {
	if err := l.w.Flush(); err != nil {
		return err
	}
	return l.f.Close()
}

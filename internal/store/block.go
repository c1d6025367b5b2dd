package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Raw records are stored in compressed blocks rather than one per row:
// similar JSON records compress several times better together, and writing
// fewer bytes is what makes the embedded store keep up with ingestion.
// A block is zstd(uvarint(len) record ...).

var (
	encOnce sync.Once
	enc     *zstd.Encoder
	decOnce sync.Once
	dec     *zstd.Decoder
)

func encoder() *zstd.Encoder {
	encOnce.Do(func() {
		var err error
		enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			panic(err) // only on invalid options, which are constant
		}
	})
	return enc
}

func decoder() *zstd.Decoder {
	decOnce.Do(func() {
		var err error
		dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			panic(err)
		}
	})
	return dec
}

// PackBlock compresses records into one block. scratch is reused if large
// enough.
func PackBlock(records [][]byte, scratch []byte) []byte {
	buf := scratch[:0]
	var n [binary.MaxVarintLen64]byte
	for _, r := range records {
		buf = append(buf, n[:binary.PutUvarint(n[:], uint64(len(r)))]...)
		buf = append(buf, r...)
	}
	return encoder().EncodeAll(buf, nil)
}

// ErrCorruptBlock is returned for blocks that do not unpack.
var ErrCorruptBlock = errors.New("corrupt raw-record block")

// UnpackBlock returns the records of a block. They alias one new buffer.
func UnpackBlock(block []byte) ([][]byte, error) {
	buf, err := decoder().DecodeAll(block, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptBlock, err)
	}
	var out [][]byte
	for len(buf) > 0 {
		l, k := binary.Uvarint(buf)
		if k <= 0 || l > uint64(len(buf)-k) {
			return nil, ErrCorruptBlock
		}
		out = append(out, buf[k:k+int(l)])
		buf = buf[k+int(l):]
	}
	return out, nil
}

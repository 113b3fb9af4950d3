package mongod

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Wire protocol opcodes the simulator understands (reference §8).
const (
	opReply int32 = 1
	opQuery int32 = 2004
	opMsg   int32 = 2013
)

// OP_MSG flag bits.
const (
	flagChecksumPresent uint32 = 1 << 0
	flagMoreToCome      uint32 = 1 << 1
	flagExhaustAllowed  uint32 = 1 << 16
)

const (
	headerLen = 16
	// maxMessageSize is what hello advertises as maxMessageSizeBytes; bigger requests are refused.
	maxMessageSize = 48_000_000
	maxBSONSize    = 16 * 1024 * 1024
)

var errBadMessage = errors.New("malformed wire message")

// message is one parsed client request.
type message struct {
	requestID int32
	opCode    int32
	flags     uint32 // OP_MSG flagBits, or OP_QUERY flags
	fullName  string // OP_QUERY fullCollectionName
	body      bson.Raw
	// seqs holds OP_MSG kind-1 document sequences by identifier ("documents", "updates", …).
	seqs map[string][]bson.Raw
}

// readMessage reads one whole wire message from r, refusing lengths outside
// [header, maxMessageSize] before allocating.
func readMessage(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int32(binary.LittleEndian.Uint32(hdr[:]))
	if n < headerLen || n > maxMessageSize {
		return nil, fmt.Errorf("%w: message length %d out of range", errBadMessage, n)
	}
	buf := make([]byte, n)
	copy(buf, hdr[:])
	if _, err := io.ReadFull(r, buf[4:]); err != nil {
		return nil, err
	}
	return buf, nil
}

// parseMessage decodes a whole wire message (header included). It never panics: every length
// is checked against what is left, and every document is validated as BSON.
func parseMessage(b []byte) (*message, error) {
	if len(b) < headerLen {
		return nil, fmt.Errorf("%w: short header", errBadMessage)
	}
	if int(int32(binary.LittleEndian.Uint32(b))) != len(b) {
		return nil, fmt.Errorf("%w: length field does not match", errBadMessage)
	}
	m := &message{
		requestID: int32(binary.LittleEndian.Uint32(b[4:])),
		opCode:    int32(binary.LittleEndian.Uint32(b[12:])),
	}
	rest := b[headerLen:]
	switch m.opCode {
	case opMsg:
		return m, parseOpMsg(m, rest)
	case opQuery:
		return m, parseOpQuery(m, rest)
	default:
		return m, fmt.Errorf("%w: unsupported opcode %d", errBadMessage, m.opCode)
	}
}

func parseOpMsg(m *message, b []byte) error {
	if len(b) < 4 {
		return fmt.Errorf("%w: OP_MSG without flags", errBadMessage)
	}
	m.flags = binary.LittleEndian.Uint32(b)
	b = b[4:]
	// Bits 0-15 are required: an unknown one is an error (checksumPresent and moreToCome are known).
	if m.flags&0xFFFF&^(flagChecksumPresent|flagMoreToCome) != 0 {
		return fmt.Errorf("%w: unknown required OP_MSG flag bits %#x", errBadMessage, m.flags&0xFFFF)
	}
	if m.flags&flagChecksumPresent != 0 {
		if len(b) < 4 {
			return fmt.Errorf("%w: missing checksum", errBadMessage)
		}
		b = b[:len(b)-4] // the checksum is not verified: loopback only
	}
	for len(b) > 0 {
		kind := b[0]
		b = b[1:]
		switch kind {
		case 0:
			doc, rest, err := readDoc(b)
			if err != nil {
				return err
			}
			if m.body != nil {
				return fmt.Errorf("%w: more than one body section", errBadMessage)
			}
			m.body, b = doc, rest
		case 1:
			if len(b) < 4 {
				return fmt.Errorf("%w: short document sequence", errBadMessage)
			}
			size := int(int32(binary.LittleEndian.Uint32(b)))
			if size < 5 || size > len(b) {
				return fmt.Errorf("%w: document sequence size %d out of range", errBadMessage, size)
			}
			seq := b[4:size]
			b = b[size:]
			nul := indexByte(seq, 0)
			if nul < 0 {
				return fmt.Errorf("%w: unterminated sequence identifier", errBadMessage)
			}
			id := string(seq[:nul])
			seq = seq[nul+1:]
			var docs []bson.Raw
			for len(seq) > 0 {
				doc, rest, err := readDoc(seq)
				if err != nil {
					return err
				}
				docs = append(docs, doc)
				seq = rest
			}
			if m.seqs == nil {
				m.seqs = make(map[string][]bson.Raw)
			}
			m.seqs[id] = append(m.seqs[id], docs...)
		default:
			return fmt.Errorf("%w: unknown section kind %d", errBadMessage, kind)
		}
	}
	if m.body == nil {
		return fmt.Errorf("%w: OP_MSG without a body section", errBadMessage)
	}
	return nil
}

func parseOpQuery(m *message, b []byte) error {
	if len(b) < 4 {
		return fmt.Errorf("%w: OP_QUERY without flags", errBadMessage)
	}
	m.flags = binary.LittleEndian.Uint32(b)
	b = b[4:]
	nul := indexByte(b, 0)
	if nul < 0 {
		return fmt.Errorf("%w: unterminated collection name", errBadMessage)
	}
	m.fullName = string(b[:nul])
	b = b[nul+1:]
	if len(b) < 8 {
		return fmt.Errorf("%w: OP_QUERY without skip/return", errBadMessage)
	}
	b = b[8:]
	doc, _, err := readDoc(b)
	if err != nil {
		return err
	}
	// A $query wrapper (old drivers talking to mongos) carries the command inside.
	if q, ok := doc.Lookup("$query").DocumentOK(); ok {
		doc = q
	}
	m.body = doc
	return nil
}

// readDoc splits one validated BSON document off the front of b.
func readDoc(b []byte) (bson.Raw, []byte, error) {
	if len(b) < 5 {
		return nil, nil, fmt.Errorf("%w: short document", errBadMessage)
	}
	n := int(int32(binary.LittleEndian.Uint32(b)))
	if n < 5 || n > len(b) || n > maxBSONSize+16*1024 {
		return nil, nil, fmt.Errorf("%w: document length %d out of range", errBadMessage, n)
	}
	doc := bson.Raw(b[:n])
	if err := doc.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errBadMessage, err)
	}
	return doc, b[n:], nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// appendOpMsg builds an OP_MSG reply with one kind-0 section. checksumPresent is never set:
// driver v2.9.3 cannot strip it (reference §0.7).
func appendOpMsg(dst []byte, requestID, responseTo int32, flags uint32, doc []byte) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(requestID))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(responseTo))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(opMsg))
	dst = binary.LittleEndian.AppendUint32(dst, flags&^flagChecksumPresent)
	dst = append(dst, 0)
	dst = append(dst, doc...)
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst
}

// appendOpReply builds the OP_REPLY that answers the legacy OP_QUERY handshake.
func appendOpReply(dst []byte, requestID, responseTo int32, doc []byte) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(requestID))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(responseTo))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(opReply))
	dst = binary.LittleEndian.AppendUint32(dst, 0) // responseFlags
	dst = binary.LittleEndian.AppendUint64(dst, 0) // cursorID
	dst = binary.LittleEndian.AppendUint32(dst, 0) // startingFrom
	dst = binary.LittleEndian.AppendUint32(dst, 1) // numberReturned
	dst = append(dst, doc...)
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst
}

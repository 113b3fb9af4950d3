package mongod

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func opMsgRequest(t testing.TB, reqID int32, flags uint32, doc bson.D) []byte {
	t.Helper()
	raw, err := bson.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return appendOpMsg(nil, reqID, 0, flags, raw)
}

func opQueryRequest(t testing.TB, reqID int32, doc bson.D) []byte {
	t.Helper()
	raw, err := bson.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	b := binary.LittleEndian.AppendUint32(nil, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(reqID))
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(opQuery))
	b = binary.LittleEndian.AppendUint32(b, 4)
	b = append(b, "admin.$cmd\x00"...)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 0xFFFFFFFF)
	b = append(b, raw...)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	return b
}

func FuzzParseMessage(f *testing.F) {
	f.Add(opMsgRequest(f, 1, 0, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}}))
	f.Add(opQueryRequest(f, 2, bson.D{{Key: "isMaster", Value: 1}}))
	seq := opMsgRequest(f, 3, flagMoreToCome, bson.D{{Key: "insert", Value: "c"}, {Key: "$db", Value: "x"}})
	doc, _ := bson.Marshal(bson.D{{Key: "a", Value: 1}})
	sec := append([]byte{1}, binary.LittleEndian.AppendUint32(nil, uint32(4+len("documents\x00")+len(doc)))...)
	sec = append(append(sec, "documents\x00"...), doc...)
	seq = append(seq, sec...)
	binary.LittleEndian.PutUint32(seq, uint32(len(seq)))
	f.Add(seq)
	f.Add([]byte{16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xdd, 7, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMessage(b)
		if err != nil {
			return
		}
		if m.body == nil {
			t.Fatal("parsed message without a body")
		}
		if err := m.body.Validate(); err != nil {
			t.Fatalf("parsed body is invalid BSON: %v", err)
		}
		for _, docs := range m.seqs {
			for _, d := range docs {
				if err := d.Validate(); err != nil {
					t.Fatalf("sequence document is invalid BSON: %v", err)
				}
			}
		}
	})
}

func TestParseMessageRejects(t *testing.T) {
	good := opMsgRequest(t, 1, 0, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}})
	withFlag := func(flags uint32) []byte {
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint32(b[16:], flags)
		return b
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"short", good[:10]},
		{"length mismatch", good[:len(good)-1]},
		{"unknown opcode", func() []byte {
			b := append([]byte(nil), good...)
			binary.LittleEndian.PutUint32(b[12:], 2005)
			return b
		}()},
		{"unknown required flag", withFlag(1 << 4)},
		{"no body", func() []byte { b := append([]byte(nil), good[:20]...); binary.LittleEndian.PutUint32(b, 20); return b }()},
		{"bad section kind", func() []byte { b := append([]byte(nil), good...); b[20] = 9; return b }()},
		{"doc length lies", func() []byte {
			b := append([]byte(nil), good...)
			binary.LittleEndian.PutUint32(b[21:], 1<<30)
			return b
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseMessage(tt.b); err == nil {
				t.Error("accepted")
			}
		})
	}
	if m, err := parseMessage(good); err != nil || str(m.body, "$db") != "admin" {
		t.Errorf("good message: %v", err)
	}
}

// readReply reads one wire message from the server.
func readReply(t *testing.T, c net.Conn) (responseTo int32, flags uint32, body bson.Raw) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(guard))
	b, err := readMessage(c)
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	responseTo = int32(binary.LittleEndian.Uint32(b[8:]))
	switch op := int32(binary.LittleEndian.Uint32(b[12:])); op {
	case opMsg:
		flags = binary.LittleEndian.Uint32(b[16:])
		body = bson.Raw(b[21:])
	case opReply:
		body = bson.Raw(b[36:])
	default:
		t.Fatalf("reply opcode %d", op)
	}
	return responseTo, flags, body
}

func TestRawWire(t *testing.T) {
	s := startServer(t, Options{})
	dial := func() net.Conn {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	c := dial()
	if _, err := c.Write(opQueryRequest(t, 7, bson.D{{Key: "isMaster", Value: 1}, {Key: "client", Value: bson.D{{Key: "application", Value: bson.D{{Key: "name", Value: "raw"}}}}}})); err != nil {
		t.Fatal(err)
	}
	respTo, _, body := readReply(t, c)
	if respTo != 7 || body.Lookup("ismaster").Boolean() != true || body.Lookup("connectionId").Type != bson.TypeInt32 {
		t.Fatalf("OP_REPLY to isMaster: responseTo %d, %s", respTo, body)
	}
	// An unacknowledged (moreToCome) write gets no reply: the next reply answers the ping.
	if _, err := c.Write(opMsgRequest(t, 8, flagMoreToCome, bson.D{{Key: "insert", Value: "c"}, {Key: "documents", Value: bson.A{bson.D{}}}, {Key: "$db", Value: "x"}})); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(opMsgRequest(t, 9, 0, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}})); err != nil {
		t.Fatal(err)
	}
	respTo, flags, body := readReply(t, c)
	if respTo != 9 || flags&flagChecksumPresent != 0 || body.Lookup("ok").Double() != 1 {
		t.Fatalf("ping reply: responseTo %d flags %#x %s", respTo, flags, body)
	}
	// A missing $db is an error reply with an int32 code.
	if _, err := c.Write(opMsgRequest(t, 10, 0, bson.D{{Key: "ping", Value: 1}})); err != nil {
		t.Fatal(err)
	}
	if _, _, body := readReply(t, c); body.Lookup("code").Type != bson.TypeInt32 {
		t.Errorf("error reply code type: %s", body)
	}

	// Garbage closes only that connection.
	for _, junk := range [][]byte{
		{0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4},                             // 2 GB length
		{20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xd5, 7, 0, 0, 0, 0, 0, 0}, // OP_GET_MORE: unknown here
	} {
		g := dial()
		if _, err := g.Write(junk); err != nil {
			t.Fatal(err)
		}
		_ = g.SetReadDeadline(time.Now().Add(guard))
		// EOF or a reset (unread junk) both mean closed; a timeout means it kept waiting.
		if _, err := io.ReadAll(g); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Errorf("garbage: the server kept the connection open")
			}
		}
	}
	c2 := dial()
	if _, err := c2.Write(opMsgRequest(t, 1, 0, bson.D{{Key: "hello", Value: 1}, {Key: "$db", Value: "admin"}})); err != nil {
		t.Fatal(err)
	}
	if _, _, body := readReply(t, c2); body.Lookup("isWritablePrimary").Boolean() != true {
		t.Errorf("server unhealthy after garbage: %s", body)
	}
}

func TestExhaustHelloStreams(t *testing.T) {
	s := startServer(t, Options{})
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := opMsgRequest(t, 5, flagExhaustAllowed, bson.D{
		{Key: "hello", Value: 1},
		{Key: "topologyVersion", Value: bson.D{{Key: "processId", Value: s.processID}, {Key: "counter", Value: int64(0)}}},
		{Key: "maxAwaitTimeMS", Value: int64(100)},
		{Key: "$db", Value: "admin"},
	})
	start := time.Now()
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	r1, f1, _ := readReply(t, c)
	r2, f2, b2 := readReply(t, c)
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Errorf("two awaitable replies after %v, want >= 200ms (maxAwaitTimeMS 100 each)", el)
	}
	if f1&flagMoreToCome == 0 || f2&flagMoreToCome == 0 {
		t.Errorf("exhaust replies without moreToCome: %#x %#x", f1, f2)
	}
	if r1 != 5 || r2 == 5 || r2 == 0 {
		t.Errorf("responseTo %d then %d: want the request id, then the previous reply's id", r1, r2)
	}
	if b2.Lookup("topologyVersion", "counter").Type != bson.TypeInt64 {
		t.Errorf("topologyVersion.counter type: %s", b2)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := Start(Options{Synthetic: 10, ReplicaSet: "rs0"})
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	for range 5 {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		// a parked awaitable hello on each
		_, _ = c.Write(opMsgRequest(t, 1, flagExhaustAllowed, bson.D{
			{Key: "hello", Value: 1},
			{Key: "topologyVersion", Value: bson.D{{Key: "processId", Value: s.processID}, {Key: "counter", Value: int64(0)}}},
			{Key: "maxAwaitTimeMS", Value: int64(60000)},
			{Key: "$db", Value: "admin"},
		}))
	}
	waitFor(t, "5 parked hellos", func() bool { return s.connStats().awaiting == 5 })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		c.Close()
	}
	// Close waited for the server's goroutines; the runtime may take a moment to retire them.
	deadline := time.Now().Add(guard)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

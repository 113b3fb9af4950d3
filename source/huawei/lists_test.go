package huawei

import (
	"slices"
	"testing"

	"github.com/currentop/currentop/source"
)

// A read that stops early (idle sessions shown, the view's limit reached) leaves some IPs'
// sessions unread: their users, apps and drivers stay as last read rather than vanish, and
// an IP that left is forgotten.
func TestClientListsOutliveAPartialRead(t *testing.T) {
	full := []source.Client{
		{IP: "10.0.0.1", Users: []string{"ordersApp"}, Apps: []string{"orders"}},
		{IP: "10.0.0.2", Users: []string{"billing"}},
	}
	seen := rememberLists(nil, full)
	partial := []source.Client{{IP: "10.0.0.1"}, {IP: "10.0.0.3", Users: []string{"new"}}}
	seen = rememberLists(seen, partial)
	if !slices.Equal(partial[0].Users, []string{"ordersApp"}) || !slices.Equal(partial[0].Apps, []string{"orders"}) {
		t.Fatalf("lists of an IP whose sessions were not read: %+v", partial[0])
	}
	if _, ok := seen["10.0.0.2"]; ok || len(seen) != 2 {
		t.Fatalf("remembered %v, want 10.0.0.1 and 10.0.0.3 only", seen)
	}
}

package source

import (
	"encoding/json"
	"testing"
)

func TestConnectionsJSON(t *testing.T) {
	for _, c := range []struct {
		name string
		in   Connections
		want string
	}{
		{"all known (the stable format)", Connections{Current: 412, Available: 838448, Active: 17, TotalCreated: 9120},
			`{"current":412,"available":838448,"active":17,"total_created":9120}`},
		{"zero known is 0", Connections{}, `{"current":0,"available":0,"active":0,"total_created":0}`},
		{"cloud: no available, no total", Connections{Current: 40, Active: 3, Unknown: ConnAvailable | ConnTotalCreated},
			`{"current":40,"active":3}`},
		{"client list failed", Connections{Current: 0, Active: 3, Unknown: ConnCurrent | ConnAvailable | ConnTotalCreated},
			`{"active":3}`},
		{"nothing known", Connections{Current: 5, Unknown: ConnAll}, `{}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := json.Marshal(Server{Connections: c.in})
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Connections json.RawMessage `json:"connections"`
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if string(got.Connections) != c.want {
				t.Errorf("connections %s, want %s", got.Connections, c.want)
			}
		})
	}
	if !(Connections{}).Known(ConnAll) || (Connections{Unknown: ConnCurrent}).Known(ConnCurrent|ConnActive) {
		t.Error("Known")
	}
}

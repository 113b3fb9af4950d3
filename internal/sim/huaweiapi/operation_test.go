package huaweiapi

import (
	"encoding/json"
	"testing"

	"github.com/currentop/currentop/internal/sim/deployment"
)

// The operation text is written as the real API writes it (the seed document): numbers as Java
// doubles, "=" escaped, the client's metadata in "$client" at the end.
func TestOperationTextLikeTheSeed(t *testing.T) {
	tests := []struct {
		name string
		s    deployment.Op
		want string
	}{
		{"seed style", deployment.Op{
			Command: json.RawMessage(`{"getMore":4947305021798302720,"collection":"$cmd.aggregate","batchSize":101,"lsid":{"id":{"$binary":{"base64":"9FhcBFVeTzafCH8BUZrLjQ==","subType":"03"}}},"ts":[1614047961,0.5,0.0001]}`),
			App:     "cdc-worker", Driver: "PyMongo 3.6.1",
		}, `{"getMore":4.947305021798303E18,"collection":"$cmd.aggregate","batchSize":101.0,"lsid":{"id":{"$binary":{"base64":"9FhcBFVeTzafCH8BUZrLjQ\=\=","subType":"03"}}},"ts":[1.614047961E9,0.5,1.0E-4],` +
			`"$client":{"application":{"name":"cdc-worker"},"driver":{"name":"PyMongo","version":"3.6.1"}}}`},
		{"no client metadata", deployment.Op{Command: json.RawMessage(`{"find":"orders","limit":1}`)}, `{"find":"orders","limit":1.0}`},
		{"empty object with metadata", deployment.Op{Command: json.RawMessage(`{}`), App: "a"}, `{"$client":{"application":{"name":"a"}}}`},
		{"not JSON is passed through", deployment.Op{Command: json.RawMessage(`not json`)}, `not json`},
		{"no command", deployment.Op{App: "a"}, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := operationText(tt.s); got != tt.want {
				t.Errorf("operationText:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

package mongod

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Servers without the $currentOp stage answer as FerretDB 1.x does, through the real driver.
func TestProfilesWithoutCurrentOpStage(t *testing.T) {
	tests := []struct {
		name        string
		profile     Profile
		ferretdb    string
		cmdCode     int32 // currentOp command: 0 = answers
		emptyInprog bool
	}{
		{"FerretDB", ProfileFerretDB, "v1.24.0", 0, true},
		{"no stage", ProfileNoCurrentOpStage, "", 0, false},
		{"neither", ProfileNoCurrentOp, "", codeCommandNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Options{Profile: tt.profile})
			cl := connect(t, s.URI(), nil)
			admin := cl.Database("admin")
			ctx := ctxT(t)

			bi, err := admin.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Raw()
			if err != nil {
				t.Fatal(err)
			}
			got, _ := bi.Lookup("ferretdbVersion").StringValueOK()
			if got != tt.ferretdb || bi.Lookup("version").StringValue() != tt.profile.Version {
				t.Errorf("buildInfo ferretdbVersion %q version %q, want %q %q", got, bi.Lookup("version"), tt.ferretdb, tt.profile.Version)
			}

			_, err = admin.Aggregate(ctx, bson.A{bson.D{{Key: "$currentOp", Value: bson.D{}}}})
			var ce mongo.CommandError
			if !errors.As(err, &ce) || ce.Code != codeFailedToParse || ce.Name != "FailedToParse" ||
				ce.Message != "Invalid command format: the 'aggregate' field must specify a collection name or 1" {
				t.Fatalf("$currentOp: %v, want FerretDB's FailedToParse", err)
			}
			// Aggregates on a collection still run.
			if _, err := cl.Database("test").Collection("c").Aggregate(ctx, bson.A{}); err != nil {
				t.Errorf("aggregate on a collection: %v", err)
			}

			raw, err := admin.RunCommand(ctx, bson.D{{Key: "currentOp", Value: 1}, {Key: "$all", Value: true}}).Raw()
			if tt.cmdCode != 0 {
				if commandCode(err) != tt.cmdCode {
					t.Fatalf("currentOp command: %v, want code %d", err, tt.cmdCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("currentOp command: %v", err)
			}
			inprog, ok := raw.Lookup("inprog").ArrayOK()
			if !ok {
				t.Fatalf("no inprog array: %s", raw)
			}
			vals, _ := inprog.Values()
			if (len(vals) == 0) != tt.emptyInprog {
				t.Errorf("currentOp listed %d documents, want empty = %v", len(vals), tt.emptyInprog)
			}
		})
	}
}

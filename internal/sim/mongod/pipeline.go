package mongod

import (
	"errors"

	"github.com/currentop/currentop/internal/sim/mongod/agg"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// runPipeline evaluates the stages after $currentOp with sim/mongod/agg, mapping its errors
// to server errors (code, codeName, errmsg).
func runPipeline(docs []bson.D, stages []bson.Raw) ([]bson.D, error) {
	if len(stages) == 0 {
		return docs, nil
	}
	out, err := agg.Run(docs, stages)
	if err != nil {
		var ae *agg.Error
		if errors.As(err, &ae) {
			return nil, &cmdError{code: ae.Code, name: ae.Name, msg: ae.Msg}
		}
		return nil, errorf(1, "aggregation failed: %v", err)
	}
	return out, nil
}

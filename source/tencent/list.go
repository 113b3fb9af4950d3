package tencent

import (
	"context"
	"strconv"

	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"

	"github.com/currentop/currentop/source"
)

// maxInstancePages bounds List: 100 pages of 100 instances.
const maxInstancePages = 100

// describeInstances reads one page of DescribeDBInstances.
func (s *Source) describeInstances(ctx context.Context, n *notes, ids []string, offset, limit uint64) ([]*instanceDetail, uint64, error) {
	resp := &describeDBInstancesResponse{}
	err := s.call(ctx, n, actionInstances, func() tchttp.Request {
		r := &describeDBInstancesRequest{BaseRequest: newBase(actionInstances), Limit: u64(limit), Offset: u64(offset)}
		for _, id := range ids {
			r.InstanceIds = append(r.InstanceIds, str(id))
		}
		return r
	}, resp)
	if err != nil {
		return nil, 0, err
	}
	if resp.Response == nil {
		return nil, 0, malformed(actionInstances, "no Response")
	}
	return resp.Response.InstanceDetails, deref(resp.Response.TotalCount), nil
}

// List returns the MongoDB instances of the region (DescribeDBInstances, every page).
func (s *Source) List(ctx context.Context) ([]source.Instance, error) {
	if err := s.checkOpen(false); err != nil {
		return nil, err
	}
	out := []source.Instance{}
	var offset uint64
	for page := 0; page < maxInstancePages; page++ {
		details, total, err := s.describeInstances(ctx, nil, nil, offset, instancesPageLimit)
		if err != nil {
			return nil, err
		}
		for _, d := range details {
			if d != nil {
				out = append(out, toInstance(d, s.region))
			}
		}
		offset += instancesPageLimit
		if len(details) < instancesPageLimit || offset >= total {
			break
		}
	}
	return out, nil
}

// Instance status codes of DescribeDBInstances.
var instanceStatus = map[int64]string{
	0: "creating", 1: "processing", 2: "running", -2: "isolated", -3: "isolated",
}

func toInstance(d *instanceDetail, region string) source.Instance {
	in := source.Instance{
		ID:      source.Clean(deref(d.InstanceId)),
		Name:    source.Clean(deref(d.InstanceName)),
		Region:  source.Clean(deref(d.Region)),
		Version: mongoVersion(deref(d.MongoVersion)),
		Type:    "replica set",
	}
	if in.Region == "" {
		in.Region = region
	}
	if deref(d.ClusterType) == 1 {
		in.Type = "sharded cluster"
	}
	if d.Status != nil {
		st, ok := instanceStatus[*d.Status]
		if !ok {
			st = "status " + strconv.FormatInt(*d.Status, 10)
		}
		in.Status = st
	}
	if desc := source.Clean(deref(d.InstanceStatusDesc)); desc != "" && in.Status == "" {
		in.Status = desc
	}
	for _, rs := range d.ReplicaSets {
		if rs != nil && deref(rs.ReplicaSetName) != "" {
			in.Nodes = append(in.Nodes, source.Clean(deref(rs.ReplicaSetName)))
		}
	}
	return in
}

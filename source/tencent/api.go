package tencent

import (
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
)

// Typed request and response structs for the four actions of MongoDB API 2019-07-25.
// Typed decoding keeps 64-bit OpIds exact: the SDK's generic CommonResponse goes through
// map[string]interface{} and float64 (shared/reference/cloud-apis.md §1.5).

const (
	service    = "mongodb"
	apiVersion = "2019-07-25"

	actionClients   = "DescribeClientConnections"
	actionCurrentOp = "DescribeCurrentOp"
	actionKillOps   = "KillOps"
	actionInstances = "DescribeDBInstances"
)

// Published per-action limits are 5/s (DescribeClientConnections) and 20/s (the others); the
// client stays under them with margin for clock skew between us and the API's counter.
var actionRates = map[string]float64{
	actionClients:   4,
	actionCurrentOp: 15,
	actionKillOps:   15,
	actionInstances: 15,
}

// API paging limits.
const (
	clientsPageLimit   = 1000  // DescribeClientConnections Limit: 1–1000
	currentOpPageLimit = 100   // DescribeCurrentOp Limit: 0–100
	currentOpMaxOffset = 10000 // DescribeCurrentOp Offset: 0–10000
	instancesPageLimit = 100   // DescribeDBInstances Limit: max 100
	maxMillisecondRun  = 3600000
)

func newBase(action string) *tchttp.BaseRequest {
	b := &tchttp.BaseRequest{}
	b.Init().WithApiInfo(service, apiVersion, action)
	return b
}

type describeClientConnectionsRequest struct {
	*tchttp.BaseRequest
	InstanceId *string `json:"InstanceId,omitempty" name:"InstanceId"`
	Limit      *uint64 `json:"Limit,omitempty" name:"Limit"`
	Offset     *uint64 `json:"Offset,omitempty" name:"Offset"`
}

type clientConnection struct {
	IP              *string `json:"IP"`
	Count           *uint64 `json:"Count"`
	InternalService *bool   `json:"InternalService"`
}

type describeClientConnectionsResponse struct {
	*tchttp.BaseResponse
	Response *struct {
		Clients    []*clientConnection `json:"Clients"`
		TotalCount *uint64             `json:"TotalCount"`
		RequestId  *string             `json:"RequestId"`
	} `json:"Response"`
}

type describeCurrentOpRequest struct {
	*tchttp.BaseRequest
	InstanceId         *string `json:"InstanceId,omitempty" name:"InstanceId"`
	Ns                 *string `json:"Ns,omitempty" name:"Ns"`
	MillisecondRunning *uint64 `json:"MillisecondRunning,omitempty" name:"MillisecondRunning"`
	Op                 *string `json:"Op,omitempty" name:"Op"`
	ReplicaSetName     *string `json:"ReplicaSetName,omitempty" name:"ReplicaSetName"`
	State              *string `json:"State,omitempty" name:"State"`
	Limit              *uint64 `json:"Limit,omitempty" name:"Limit"`
	Offset             *uint64 `json:"Offset,omitempty" name:"Offset"`
	OrderBy            *string `json:"OrderBy,omitempty" name:"OrderBy"`
	OrderByType        *string `json:"OrderByType,omitempty" name:"OrderByType"`
}

type currentOp struct {
	OpId             *int64  `json:"OpId"`
	Ns               *string `json:"Ns"`
	Query            *string `json:"Query"`
	Op               *string `json:"Op"`
	ReplicaSetName   *string `json:"ReplicaSetName"`
	NodeName         *string `json:"NodeName"`
	Operation        *string `json:"Operation"`
	State            *string `json:"State"`
	MicrosecsRunning *uint64 `json:"MicrosecsRunning"`
	ExecNode         *string `json:"ExecNode"`
}

type describeCurrentOpResponse struct {
	*tchttp.BaseResponse
	Response *struct {
		TotalCount *uint64      `json:"TotalCount"`
		CurrentOps []*currentOp `json:"CurrentOps"`
		RequestId  *string      `json:"RequestId"`
	} `json:"Response"`
}

type killOperation struct {
	ReplicaSetName *string `json:"ReplicaSetName,omitempty" name:"ReplicaSetName"`
	NodeName       *string `json:"NodeName,omitempty" name:"NodeName"`
	OpId           *int64  `json:"OpId,omitempty" name:"OpId"`
}

type killOpsRequest struct {
	*tchttp.BaseRequest
	InstanceId *string          `json:"InstanceId,omitempty" name:"InstanceId"`
	Operations []*killOperation `json:"Operations,omitempty" name:"Operations"`
}

type killOpsResponse struct {
	*tchttp.BaseResponse
	Response *struct {
		RequestId *string `json:"RequestId"`
	} `json:"Response"`
}

type describeDBInstancesRequest struct {
	*tchttp.BaseRequest
	InstanceIds []*string `json:"InstanceIds,omitempty" name:"InstanceIds"`
	Limit       *uint64   `json:"Limit,omitempty" name:"Limit"`
	Offset      *uint64   `json:"Offset,omitempty" name:"Offset"`
}

type shardInfo struct {
	ReplicaSetId   *string `json:"ReplicaSetId"`
	ReplicaSetName *string `json:"ReplicaSetName"`
	SecondaryNum   *uint64 `json:"SecondaryNum"`
}

type instanceDetail struct {
	InstanceId         *string      `json:"InstanceId"`
	InstanceName       *string      `json:"InstanceName"`
	ClusterType        *uint64      `json:"ClusterType"`
	Region             *string      `json:"Region"`
	Zone               *string      `json:"Zone"`
	Status             *int64       `json:"Status"`
	InstanceStatusDesc *string      `json:"InstanceStatusDesc"`
	Vip                *string      `json:"Vip"`
	Vport              *uint64      `json:"Vport"`
	MongoVersion       *string      `json:"MongoVersion"`
	ReplicaSets        []*shardInfo `json:"ReplicaSets"`
	MongosNodeNum      *uint64      `json:"MongosNodeNum"`
}

type describeDBInstancesResponse struct {
	*tchttp.BaseResponse
	Response *struct {
		TotalCount      *uint64           `json:"TotalCount"`
		InstanceDetails []*instanceDetail `json:"InstanceDetails"`
		RequestId       *string           `json:"RequestId"`
	} `json:"Response"`
}

func str(s string) *string { return &s }
func u64(n uint64) *uint64 { return &n }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

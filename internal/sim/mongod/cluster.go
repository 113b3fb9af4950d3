package mongod

// Cluster is a running simulated sharded cluster: a mongos and its shards.
type Cluster struct {
	mongos *Server
	shards []*ReplicaSet
}

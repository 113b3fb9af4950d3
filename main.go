// Command currentop is top for MongoDB connections and in-flight operations.
package main

import (
	"fmt"

	_ "charm.land/bubbles/v2/table"
	_ "charm.land/bubbletea/v2"
	_ "charm.land/lipgloss/v2"
	_ "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	_ "github.com/xdg-go/scram"
	_ "go.mongodb.org/mongo-driver/v2/mongo"
	_ "golang.org/x/time/rate"

	_ "github.com/currentop/currentop/source"
)

// Placeholder until the command line is wired; pins the module graph for parallel work.
func main() { fmt.Println("currentop") }

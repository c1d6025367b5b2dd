package config

import "testing"

// The documented example configuration stays valid.
func TestDocumentedExample(t *testing.T) {
	c, err := Load("../../docs/vigil.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Connectors) != 6 || len(c.Playbooks) != 3 || !c.SSF.Enabled || len(c.Sources.OktaPoll) != 1 || len(c.Sources.GraphPoll) != 1 {
		t.Errorf("the example lost sections: %+v", c)
	}
}

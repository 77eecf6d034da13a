package baton

import (
	"context"

	"baton.dev/baton/batonv1"
)

// Definition names one registered version of a workflow definition.
type Definition struct {
	// Name is the definition's name.
	Name string
	// Version is the version the server assigned (1, 2, ...).
	Version int32
	// Created is false when identical content was already registered (that version is returned).
	Created bool
}

// RegisterDefinition registers a definition from its YAML or JSON text (JSON if it starts with
// '{'). Changed content under an existing name creates the next version. A definition the
// server refuses is an INVALID_ARGUMENT *Error naming the step, field and line:column.
func (c *Client) RegisterDefinition(ctx context.Context, source string) (Definition, error) {
	response, err := c.workflows.RegisterDefinition(ctx, &batonv1.RegisterDefinitionRequest{
		Definition: &batonv1.RegisterDefinitionRequest_Source{Source: source},
	})
	if err != nil {
		return Definition{}, WrapRPCError("RegisterDefinition", err)
	}
	return Definition{
		Name:    response.GetDefinition().GetName(),
		Version: response.GetDefinition().GetVersion(),
		Created: response.GetCreated(),
	}, nil
}

// GetDefinition returns the source text of one version of a definition (the latest for version
// 0). NOT_FOUND if unknown.
func (c *Client) GetDefinition(ctx context.Context, name string, version int32) (*batonv1.GetDefinitionResponse, error) {
	response, err := c.workflows.GetDefinition(ctx, &batonv1.GetDefinitionRequest{Name: name, Version: version})
	return response, WrapRPCError("GetDefinition", err)
}

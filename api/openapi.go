package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// openAPIVersion is the version of the API the document describes.
const openAPIVersion = "1.0.0"

var (
	openAPIOnce sync.Once
	openAPIJSON []byte
)

// OpenAPI returns the OpenAPI 3.0 document of the JSON API. It is built
// from the endpoint table and, by reflection, from the wire types the
// handlers encode, so it cannot drift from them.
func OpenAPI() []byte {
	openAPIOnce.Do(func() {
		b, err := json.MarshalIndent(buildOpenAPI(), "", "  ")
		if err != nil {
			panic("api: openapi: " + err.Error())
		}
		openAPIJSON = b
	})
	return openAPIJSON
}

func (s *Server) handleOpenAPI(c echo.Context) error {
	setRoute(c, apiPrefix+"/openapi.json", kindJSON)
	return c.JSONBlob(http.StatusOK, OpenAPI())
}

type obj = map[string]any

func buildOpenAPI() obj {
	g := &schemaGen{comps: obj{}, names: map[string]reflect.Type{}}
	errRef := g.schema(reflect.TypeOf(ErrorBody{}))
	errResp := func(desc string) obj {
		return obj{"description": desc, "content": obj{"application/json": obj{"schema": errRef}}}
	}
	paths := obj{}
	for _, ep := range endpoints {
		var params []obj
		for _, p := range ep.Params {
			params = append(params, obj{"name": p.Name, "in": p.In, "required": p.Required || p.In == "path",
				"description": p.Doc, "schema": obj{"type": p.Type}})
		}
		resps := obj{
			"200": obj{"description": "OK", "content": obj{"application/json": obj{"schema": g.schema(reflect.TypeOf(ep.Result))}}},
			"400": errResp("bad request; for a query syntax error, error.position is the 1-based column"),
			"503": errResp("the request ran out of time, or the search index is not available"),
		}
		if len(ep.Params) > 0 && ep.Params[0].In == "path" {
			resps["404"] = errResp("no such message")
		}
		op := obj{"operationId": ep.ID, "summary": ep.Summary, "responses": resps}
		if params != nil {
			op["parameters"] = params
		}
		paths[ep.Path] = obj{strings.ToLower(ep.Method): op}
	}
	paths["/openapi.json"] = obj{"get": obj{"operationId": "openapi", "summary": "This document",
		"responses": obj{"200": obj{"description": "OpenAPI 3.0 document", "content": obj{"application/json": obj{"schema": obj{"type": "object"}}}}}}}
	return obj{
		"openapi": "3.0.3",
		"info": obj{"title": "patchtrail API", "version": openAPIVersion,
			"description": "Search and read Linux kernel mailing-list archives, their patches, series and reviews. " +
				"Errors are JSON (ErrorBody) with the HTTP status; every request has a deadline (503 when it runs out); " +
				"request bodies over the limit are 413. Message-IDs in paths are percent-encoded, without <>, and may contain '/'."},
		"servers":    []obj{{"url": apiPrefix}},
		"paths":      paths,
		"components": obj{"schemas": g.comps},
	}
}

// schemaGen derives JSON schemas from Go types the way encoding/json
// encodes them.
type schemaGen struct {
	comps obj
	names map[string]reflect.Type
}

var (
	timeType    = reflect.TypeOf(time.Time{})
	secondsType = reflect.TypeOf(Seconds(0))
)

func (g *schemaGen) schema(t reflect.Type) obj {
	switch t {
	case timeType:
		return obj{"type": "string", "format": "date-time"}
	case secondsType:
		return obj{"type": "number", "description": "seconds"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := g.schema(t.Elem())
		if _, ref := s["$ref"]; ref {
			return obj{"allOf": []obj{s}, "nullable": true}
		}
		s["nullable"] = true
		return s
	case reflect.Struct:
		return g.ref(t)
	case reflect.Slice, reflect.Array:
		return obj{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return obj{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return obj{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return obj{"type": "number"}
	}
	return obj{}
}

// ref registers struct t as a component and returns a reference to it.
func (g *schemaGen) ref(t reflect.Type) obj {
	name := t.Name()
	if prev, ok := g.names[name]; ok && prev != t {
		name = strings.ReplaceAll(t.PkgPath(), "/", "_") + "_" + name
	}
	r := obj{"$ref": "#/components/schemas/" + name}
	if _, ok := g.names[name]; ok {
		return r
	}
	g.names[name] = t
	s := obj{"type": "object"}
	g.comps[name] = s // placeholder first: types may refer to themselves
	props, required := obj{}, []string{}
	g.fields(t, props, &required)
	s["properties"] = props
	if len(required) > 0 {
		s["required"] = required
	}
	return r
}

// fields adds the JSON fields of struct t, flattening embedded structs.
func (g *schemaGen) fields(t reflect.Type, props obj, required *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			g.fields(f.Type, props, required)
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.schema(f.Type)
		if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
			*required = append(*required, name)
		}
	}
}

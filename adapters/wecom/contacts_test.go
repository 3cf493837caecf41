package wecom

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core/org"
)

func TestContactsFetch(t *testing.T) {
	b := setup(t)
	b.api.depts = []Department{
		{ID: 1, Name: "某市政务", ParentID: 0},
		{ID: 3, Name: "运维部", ParentID: 2, Order: 5},
		{ID: 2, Name: "大数据中心", ParentID: 1},
	}
	b.api.members = map[int64][]Member{
		1: {{UserID: "Boss", Name: "市领导", Departments: []int64{1}, Status: 1}},
		2: {
			{UserID: "lisi", Name: "李四", Departments: []int64{2}, MainDepartment: 2, Status: 1},
			{UserID: "invited", Name: "新人", Departments: []int64{2}, Status: 4},
			{UserID: "gone", Name: "离职", Departments: []int64{2}, Status: 5},
		},
		3: {
			{UserID: "ZhangSan", Name: "张三", Departments: []int64{2, 3}, MainDepartment: 3, Status: 1},
			{UserID: "lisi", Name: "李四", Departments: []int64{2, 3}, MainDepartment: 2, Status: 1},
		},
	}
	c, err := b.a.Contacts().Fetch(context.Background())
	require.NoError(t, err)
	require.Equal(t, org.Contacts{
		Departments: []org.ContactDepartment{
			{ID: 1, Name: "某市政务"}, {ID: 3, Name: "运维部", ParentID: 2, Order: 5}, {ID: 2, Name: "大数据中心", ParentID: 1},
		},
		Members: []org.ContactMember{
			{ExternalID: "Boss", Name: "市领导", MainDepartment: 1, Active: true},
			{ExternalID: "ZhangSan", Name: "张三", MainDepartment: 3, Active: true},
			{ExternalID: "gone", Name: "离职", MainDepartment: 2},
			{ExternalID: "invited", Name: "新人", MainDepartment: 2, Active: true},
			{ExternalID: "lisi", Name: "李四", MainDepartment: 2, Active: true},
		},
	}, c, "each member once, by userid; the first department stands in for a missing main one")
}

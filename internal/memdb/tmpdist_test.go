package memdb

func errDist(recs []rec) map[string]int {
	m := map[string]int{}
	for _, r := range recs {
		if r.out.Error != nil {
			s := r.out.Type.String() + " " + r.out.Error.(string)
			if len(s) > 30 {
				s = s[:30]
			}
			m[s]++
		}
	}
	return m
}

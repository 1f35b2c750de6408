package image

// Unused lists the images that no container of users runs, tagged or not:
// what `system prune -a` removes (docker's "all images without at least
// one container associated to them").
func (s *Store) Unused(users []User) ([]Summary, error) {
	list, err := s.List()
	if err != nil {
		return nil, err
	}
	var out []Summary
	for i := range list {
		used := false
		for _, u := range users {
			used = used || s.uses(u, &list[i])
		}
		if !used {
			out = append(out, list[i])
		}
	}
	return out, nil
}

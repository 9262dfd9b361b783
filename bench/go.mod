module commandcenter/bench

go 1.26.8

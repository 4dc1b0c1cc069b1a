module tally/test/peers/prometheus3

go 1.26.8

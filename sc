gpus 2
tick 0
util 0 80
proc 0 30238 5000
tick 3
util 0 2
proc 0 30238 5000
proc 1 9974 50

#ifndef GUA_VERSION_H
#define GUA_VERSION_H

#define GUA_VERSION	"0.1.0"

#endif

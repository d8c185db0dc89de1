/* version.h: the release lambdad reports. */
#ifndef LD_VERSION_H
#define LD_VERSION_H

#define LAMBDAD_VERSION "0.1.0"

#endif

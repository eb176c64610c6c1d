/* spatialboost/spatialboost.h — everything a plugin or program may use. */
#ifndef SPATIALBOOST_H
#define SPATIALBOOST_H

#include "autograd.h"
#include "backend.h"
#include "backend_plugin.h"
#include "config.h"
#include "dataset.h"
#include "defs.h"
#include "encoder.h"
#include "error.h"
#include "image.h"
#include "json.h"
#include "kernels.h"
#include "llm.h"
#include "loss.h"
#include "ops.h"
#include "params.h"
#include "plugin.h"
#include "projector.h"
#include "registry.h"
#include "safetensors.h"
#include "spatial.h"
#include "tensor.h"
#include "tokenizer.h"
#include <spatialboost/version.h>

#endif

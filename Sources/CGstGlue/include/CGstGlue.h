// Umbrella header of the C glue.
#pragma once
#include "cgst_element.h"
#include "cgst_helpers.h"
#include "cgst_chat_meta.h"
#include "cgst_detection_meta.h"

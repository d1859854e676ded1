// The plugin's C entry point lives in entry.c; Swift provides the init function.
#pragma once

# shmrpc_generate(): .proto files -> nanopb structs + shmrpc C service glue
# (and optionally TypeScript), in one protoc run at build time.
#
#   include(ShmrpcGenerate)
#   shmrpc_generate(
#     PROTOS      proto/greeter.proto          # required, one or more
#     IMPORT_DIRS proto                        # -I roots; default: each proto's folder
#     C_OUT       ${CMAKE_CURRENT_BINARY_DIR}/gen   # required
#     TS_OUT      ${CMAKE_SOURCE_DIR}/js/gen   # optional: also emit TypeScript
#     TS_RUNTIME  shmrpc/pb                    # optional: import path of the TS runtime
#     PLUGIN      $<TARGET_FILE:protoc-gen-shmrpc>  # optional, see below
#     C_SOURCES   gen_sources                  # out: generated .c files
#     C_HEADERS   gen_headers)                 # out: generated .h files
#
# Compile the C_SOURCES with C_OUT on the include path and shmrpc::rpc
# linked: it brings shmrpc::nanopb (cmake/Nanopb.cmake: nanopb's runtime
# with 32-bit field sizes, PB_FIELD_32BIT and PB_ENABLE_MALLOC; string, bytes and
# repeated fields are malloc'd pointers: nanopb runs with
# fallback_type:FT_POINTER, so no .options files or callbacks are needed).
# Well-known types a proto imports (google/protobuf/timestamp.proto, ...) are
# generated alongside. The plugin defaults to the protoc-gen-shmrpc target of
# this build, else the installed one (shmrpc::protoc-gen-shmrpc, after
# find_package(shmrpc)), else $SHMRPC_PLUGIN, else protoc-gen-shmrpc on PATH.

find_program(SHMRPC_PROTOC protoc DOC "protoc, the protobuf compiler")
find_program(SHMRPC_PROTOC_GEN_NANOPB protoc-gen-nanopb DOC "nanopb's protoc plugin")
if(NOT SHMRPC_PROTOC)
  message(FATAL_ERROR "shmrpc: protoc not found. Install protobuf-compiler "
                      "(Debian/Ubuntu) or set SHMRPC_PROTOC.")
endif()
if(NOT SHMRPC_PROTOC_GEN_NANOPB)
  message(FATAL_ERROR "shmrpc: protoc-gen-nanopb not found. Install nanopb "
                      "(Debian/Ubuntu) or set SHMRPC_PROTOC_GEN_NANOPB.")
endif()
find_path(SHMRPC_WKT_INCLUDE google/protobuf/timestamp.proto
  HINTS /usr/include /usr/local/include
  DOC "Directory holding the protobuf well-known types (google/protobuf/*.proto)")

# Appends to `out_var` every google/protobuf/*.proto that `proto` imports,
# directly or through other protos found in `import_dirs`.
set(_SHMRPC_WELL_KNOWN)
foreach(name any api duration empty field_mask source_context struct timestamp type wrappers)
  list(APPEND _SHMRPC_WELL_KNOWN google/protobuf/${name}.proto)
endforeach()

function(_shmrpc_well_known_imports proto import_dirs out_var)
  set(found ${${out_var}})
  set(pending ${proto})
  set(seen "")
  while(pending)
    list(POP_FRONT pending current)
    if(current IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${current})
    file(STRINGS ${current} import_lines REGEX "^[ \t]*import[ \t]")
    foreach(line IN LISTS import_lines)
      if(NOT line MATCHES "\"([^\"]+)\"")
        continue()
      endif()
      set(imported ${CMAKE_MATCH_1})
      if(imported MATCHES "^google/protobuf/")
        # Well-known types are generated with their own imports; other
        # google/protobuf files (descriptor.proto for custom options) only
        # when listed in PROTOS.
        if(imported IN_LIST _SHMRPC_WELL_KNOWN AND NOT imported IN_LIST found)
          list(APPEND found ${imported})
          list(APPEND pending ${SHMRPC_WKT_INCLUDE}/${imported})
        endif()
        continue()
      endif()
      foreach(dir IN LISTS import_dirs)
        if(EXISTS ${dir}/${imported})
          list(APPEND pending ${dir}/${imported})
          break()
        endif()
      endforeach()
    endforeach()
  endwhile()
  set(${out_var} ${found} PARENT_SCOPE)
endfunction()

# The name protoc gives `proto`: its path relative to the first import dir
# that contains it.
function(_shmrpc_proto_name proto import_dirs out_var)
  foreach(dir IN LISTS import_dirs)
    file(RELATIVE_PATH rel ${dir} ${proto})
    if(NOT rel MATCHES "^\\.\\./")
      set(${out_var} ${rel} PARENT_SCOPE)
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "shmrpc_generate: ${proto} is not under any IMPORT_DIRS (${import_dirs})")
endfunction()

function(shmrpc_generate)
  cmake_parse_arguments(PARSE_ARGV 0 arg ""
    "C_OUT;TS_OUT;TS_RUNTIME;PLUGIN;C_SOURCES;C_HEADERS" "PROTOS;IMPORT_DIRS")
  if(NOT arg_PROTOS)
    message(FATAL_ERROR "shmrpc_generate: PROTOS is required")
  endif()
  if(NOT arg_C_OUT)
    message(FATAL_ERROR "shmrpc_generate: C_OUT is required")
  endif()

  set(protos "")
  set(import_dirs "")
  foreach(proto IN LISTS arg_PROTOS)
    get_filename_component(abs ${proto} ABSOLUTE)
    if(NOT EXISTS ${abs})
      message(FATAL_ERROR "shmrpc_generate: ${abs} does not exist")
    endif()
    list(APPEND protos ${abs})
    if(NOT arg_IMPORT_DIRS)
      get_filename_component(dir ${abs} DIRECTORY)
      list(APPEND import_dirs ${dir})
    endif()
  endforeach()
  foreach(dir IN LISTS arg_IMPORT_DIRS)
    get_filename_component(abs ${dir} ABSOLUTE)
    list(APPEND import_dirs ${abs})
  endforeach()
  list(REMOVE_DUPLICATES import_dirs)

  # The generated files depend on the plugin too: a rebuilt plugin
  # regenerates them (plugin_dep, a target or the program's path).
  if(arg_PLUGIN)
    set(plugin ${arg_PLUGIN})
    set(plugin_dep ${arg_PLUGIN})
  elseif(TARGET protoc-gen-shmrpc)
    set(plugin $<TARGET_FILE:protoc-gen-shmrpc>)
    set(plugin_dep protoc-gen-shmrpc)
  elseif(TARGET shmrpc::protoc-gen-shmrpc)
    set(plugin $<TARGET_FILE:shmrpc::protoc-gen-shmrpc>)
    set(plugin_dep ${plugin})
  elseif(DEFINED ENV{SHMRPC_PLUGIN})
    set(plugin $ENV{SHMRPC_PLUGIN})
    set(plugin_dep ${plugin})
  else()
    find_program(SHMRPC_PLUGIN_PROGRAM protoc-gen-shmrpc)
    if(NOT SHMRPC_PLUGIN_PROGRAM)
      message(FATAL_ERROR "shmrpc_generate: protoc-gen-shmrpc not found: build the "
                          "codegen/ project, set SHMRPC_PLUGIN or pass PLUGIN")
    endif()
    set(plugin ${SHMRPC_PLUGIN_PROGRAM})
    set(plugin_dep ${plugin})
  endif()

  # Output names follow the proto names: a/b.proto -> a/b.pb.c (nanopb),
  # a/b.shmrpc.c (services only), a/b_pb.ts.
  set(names "")
  set(wkt "")
  foreach(proto IN LISTS protos)
    _shmrpc_proto_name(${proto} "${import_dirs}" name)
    list(APPEND names ${name})
    _shmrpc_well_known_imports(${proto} "${import_dirs}" wkt)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${proto})
  endforeach()
  if(wkt AND NOT SHMRPC_WKT_INCLUDE)
    message(FATAL_ERROR "shmrpc_generate: the protos import ${wkt} but google/protobuf/*.proto "
                        "was not found: install libprotobuf-dev or set SHMRPC_WKT_INCLUDE")
  endif()

  set(sources "")
  set(headers "")
  set(ts_files "")
  foreach(name IN LISTS names wkt)
    string(REGEX REPLACE "\\.proto$" "" stem ${name})
    list(APPEND sources ${arg_C_OUT}/${stem}.pb.c)
    list(APPEND headers ${arg_C_OUT}/${stem}.pb.h)
    if(arg_TS_OUT)
      list(APPEND ts_files ${arg_TS_OUT}/${stem}_pb.ts)
    endif()
  endforeach()
  foreach(proto name IN ZIP_LISTS protos names)
    file(STRINGS ${proto} service_lines REGEX "^[ \t]*service[ \t]")
    if(service_lines)
      string(REGEX REPLACE "\\.proto$" "" stem ${name})
      list(APPEND sources ${arg_C_OUT}/${stem}.shmrpc.c)
      list(APPEND headers ${arg_C_OUT}/${stem}.shmrpc.h)
    endif()
  endforeach()

  set(include_flags "")
  foreach(dir IN LISTS import_dirs)
    list(APPEND include_flags -I${dir})
  endforeach()
  if(SHMRPC_WKT_INCLUDE)
    list(APPEND include_flags -I${SHMRPC_WKT_INCLUDE})
  endif()
  set(shmrpc_flags --shmrpc_out=c:${arg_C_OUT})
  set(out_dirs ${arg_C_OUT})
  if(arg_TS_OUT)
    set(ts_param ts)
    if(arg_TS_RUNTIME)
      set(ts_param "ts,runtime=${arg_TS_RUNTIME}")
    endif()
    list(APPEND shmrpc_flags --shmrpc_out=${ts_param}:${arg_TS_OUT})
    list(APPEND out_dirs ${arg_TS_OUT})
  endif()

  # The plugin's plan run writes the options nanopb needs per file
  # (recursive fields as pointers); see codegen/README.md.
  set(plan_dir ${arg_C_OUT}/.shmrpc-plan)
  add_custom_command(
    OUTPUT ${sources} ${headers} ${ts_files}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dirs} ${plan_dir}
    COMMAND ${SHMRPC_PROTOC}
            --plugin=protoc-gen-shmrpc=${plugin}
            --shmrpc_out=plan,c:${plan_dir}
            ${include_flags}
            ${protos} ${wkt}
    COMMAND ${SHMRPC_PROTOC}
            --plugin=protoc-gen-nanopb=${SHMRPC_PROTOC_GEN_NANOPB}
            --plugin=protoc-gen-shmrpc=${plugin}
            ${shmrpc_flags}
            "--nanopb_opt=-s fallback_type:FT_POINTER"
            "--nanopb_opt=-f${plan_dir}/nanopb/%s.options"
            --nanopb_out=${arg_C_OUT}
            ${include_flags}
            ${protos} ${wkt}
    DEPENDS ${protos} ${plugin_dep}
    COMMENT "shmrpc: generating code for ${names}"
    VERBATIM)

  if(arg_C_SOURCES)
    set(${arg_C_SOURCES} ${sources} PARENT_SCOPE)
  endif()
  if(arg_C_HEADERS)
    set(${arg_C_HEADERS} ${headers} PARENT_SCOPE)
  endif()
endfunction()

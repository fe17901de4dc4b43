# pip builds in an isolated environment under a fresh temporary directory each time, so
# the include paths of pybind11 and Eigen differ between `pip install .` and a later
# `pip install -e .`: every compile command changes and ninja (and ccache) rebuild the
# whole extension in the shared build directory. Copying those headers into the build
# directory, rewriting a file only when its content changed, keeps the compile commands
# and header timestamps identical across builds, so the second install compiles nothing.
#
# manif_py_stable_includes(<imported target> <name>) points <target>'s include
# directories at copies under ${CMAKE_BINARY_DIR}/stable-include/<name>/.
function(manif_py_stable_includes target name)
  if(CMAKE_VERSION VERSION_LESS 3.21)  # file(COPY_FILE ... ONLY_IF_DIFFERENT) is 3.21+
    return()
  endif()
  get_target_property(aliased ${target} ALIASED_TARGET)
  if(aliased)
    set(target ${aliased})
  endif()
  get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
  if(NOT dirs)
    return()
  endif()
  set(stable_dirs "")
  set(index 0)
  foreach(dir IN LISTS dirs)
    # Generator expressions or paths that do not exist yet: leave them as they are.
    if(dir MATCHES "\\$<" OR NOT IS_DIRECTORY "${dir}")
      list(APPEND stable_dirs "${dir}")
      continue()
    endif()
    set(dest "${CMAKE_BINARY_DIR}/stable-include/${name}/${index}")
    math(EXPR index "${index} + 1")
    file(GLOB_RECURSE headers RELATIVE "${dir}" "${dir}/*")
    foreach(header IN LISTS headers)
      get_filename_component(header_dir "${dest}/${header}" DIRECTORY)
      file(MAKE_DIRECTORY "${header_dir}")
      file(COPY_FILE "${dir}/${header}" "${dest}/${header}" ONLY_IF_DIFFERENT)
    endforeach()
    list(APPEND stable_dirs "${dest}")
  endforeach()
  set_property(TARGET ${target} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${stable_dirs}")
endfunction()

# Per-layer include directories. A layer's sources see the public headers (include/) and, of
# src/, only their own folder and the folders of the layers whose headers they may use: those
# they link, and those that a linked layer's headers expose (its PUBLIC and INTERFACE links,
# recursively). Each target gets a folder of symlinks to just those layers
# (<build>/layers/<target>/), so a wrong-way include fails to compile with "file not found".
# Tests and benches see all of src/.

# Appends to `out` the src/ folders that `target`'s headers bring to its users.
function(_mosaic_layer_usage target out)
  set(dirs ${${out}})
  get_target_property(type ${target} TYPE)
  if(NOT type STREQUAL "INTERFACE_LIBRARY")
    get_target_property(source_dir ${target} SOURCE_DIR)
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR}/src ${source_dir})
    list(APPEND dirs ${rel})
  endif()
  get_target_property(links ${target} INTERFACE_LINK_LIBRARIES)
  if(links)
    foreach(dep IN LISTS links)
      # $<LINK_ONLY:x> marks a private dependency: linked, its headers not exposed.
      if(TARGET ${dep} AND (dep STREQUAL "mosaic" OR dep MATCHES "^mosaic_"))
        _mosaic_layer_usage(${dep} dirs)
      endif()
    endforeach()
  endif()
  set(${out} ${dirs} PARENT_SCOPE)
endfunction()

function(mosaic_layer_includes)
  set(layer_dirs)  # every target's folder: a layer nested in another one's folder stays apart
  foreach(target IN LISTS ARGN)
    get_target_property(source_dir ${target} SOURCE_DIR)
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR}/src ${source_dir})
    list(APPEND layer_dirs ${rel})
  endforeach()
  foreach(target IN LISTS ARGN)
    get_target_property(source_dir ${target} SOURCE_DIR)
    file(RELATIVE_PATH own ${PROJECT_SOURCE_DIR}/src ${source_dir})
    set(dirs ${own})
    get_target_property(links ${target} LINK_LIBRARIES)
    foreach(dep IN LISTS links)
      if(TARGET ${dep} AND (dep STREQUAL "mosaic" OR dep MATCHES "^mosaic_"))
        _mosaic_layer_usage(${dep} dirs)
      endif()
    endforeach()
    list(REMOVE_DUPLICATES dirs)
    list(SORT dirs)  # a folder before its subfolders
    set(root ${PROJECT_BINARY_DIR}/layers/${target})
    file(REMOVE_RECURSE ${root})
    set(linked)
    foreach(dir IN LISTS dirs)
      set(covered FALSE)
      foreach(parent IN LISTS linked)
        string(FIND "${dir}/" "${parent}/" at)
        if(at EQUAL 0)
          set(covered TRUE)
        endif()
      endforeach()
      if(covered OR dir MATCHES "^\\.\\.")  # tools/cli is no layer of src/
        continue()
      endif()
      # Nested layers this target may not use (query/input for query): link the folder's
      # entries one by one, leaving them out.
      set(hidden)
      foreach(other IN LISTS layer_dirs)
        string(FIND "${other}" "${dir}/" at)
        if(at EQUAL 0 AND NOT other IN_LIST dirs)
          list(APPEND hidden ${other})
        endif()
      endforeach()
      get_filename_component(parent_dir ${root}/${dir} DIRECTORY)
      file(MAKE_DIRECTORY ${parent_dir})
      if(hidden)
        file(MAKE_DIRECTORY ${root}/${dir})
        file(GLOB entries CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR}/src/${dir}
             LIST_DIRECTORIES true
             ${PROJECT_SOURCE_DIR}/src/${dir}/*)
        foreach(entry IN LISTS entries)
          if(NOT "${dir}/${entry}" IN_LIST hidden)
            file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${dir}/${entry} ${root}/${dir}/${entry}
                 SYMBOLIC)
          endif()
        endforeach()
      else()
        file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${dir} ${root}/${dir} SYMBOLIC)
      endif()
      list(APPEND linked ${dir})
    endforeach()
    target_include_directories(${target} PRIVATE ${root})
    set_property(TARGET ${target} PROPERTY MOSAIC_LAYERS "${linked}")
  endforeach()
endfunction()

# bash completion for shardrun(1): subcommands, options, option values and
# suite files (*.yaml, *.yml), JUnit files (*.xml) for `shardrun merge`, run
# directories for `shardrun timeline`; `shardrun report` takes options and the suite.
#
# Installed as share/bash-completion/completions/shardrun, where the
# bash-completion package loads it on first use; without that package,
# source this file from ~/.bashrc. It needs nothing from bash-completion.
#
# The option lists must match `shardrun --help`, `shardrun plan --help`,
# `shardrun merge --help`, `shardrun timeline --help` and `shardrun report --help`:
# tests/integration/test_cli_docs.py checks them.

# _shardrun_files CUR EXT...: directories, and files ending in .EXT (any file
# when no EXT is given), whose names start with CUR.
_shardrun_files() {
  local cur=$1 f ext
  shift
  local -a found=()
  mapfile -t found < <(compgen -f -- "$cur")
  for f in "${found[@]}"; do
    if [[ -d $f || $# -eq 0 ]]; then
      COMPREPLY+=("$f")
      continue
    fi
    for ext in "$@"; do
      if [[ $f == *."$ext" ]]; then
        COMPREPLY+=("$f")
        break
      fi
    done
  done
  # quote what needs it, add a / to folders (fails harmlessly outside completion)
  compopt -o filenames 2>/dev/null
  return 0
}

_shardrun() {
  local run_opts="-j --workers --junit --runs-dir --summary-md --kill-grace --max-failures
    --keep-resources --keep-runs --tail-lines --retries --fail-on-flaky --output-limit
    --timings --dry-run --list --last-failed --shard-index --shard-count --plan-out --plan-in -h --help
    --version --queue --queue-lease --queue-max-requeues --queue-nodes --queue-ttl
    --queue-init-timeout"
  local plan_opts="-j --workers --timings --json --runs-dir -h --help"
  local merge_opts="-o --output -h --help"
  local timeline_opts="-o --output -h --help"
  local report_opts="--queue --queue-lease --junit --output-limit --run-json --timings -h --help"
  # options followed by a value: that word is neither a command nor a suite
  local valued=" -j --workers --junit --runs-dir --summary-md --kill-grace --max-failures --keep-runs
    --tail-lines --retries --output-limit --timings --shard-index --shard-count --plan-out
    --plan-in -o --output --queue --queue-lease --queue-max-requeues --queue-nodes --queue-ttl
    --queue-init-timeout --run-json "
  valued=${valued//$'\n'/ }

  COMPREPLY=()
  local cword=$COMP_CWORD
  local cur=${COMP_WORDS[cword]} prev=
  ((cword > 0)) && prev=${COMP_WORDS[cword - 1]}
  # bash splits `--junit=out.xml` into `--junit`, `=`, `out.xml`
  if [[ $cur == = ]]; then
    cur=
  elif [[ $prev == = ]] && ((cword > 1)); then
    prev=${COMP_WORDS[cword - 2]}
  fi

  # The command (plan, merge, timeline) or the suite of a run: the first word that is
  # neither an option nor an option's value.
  local command= i=1 word
  while ((i < cword)); do
    word=${COMP_WORDS[i]}
    if [[ $word == -* ]]; then
      if [[ $valued == *" $word "* ]]; then
        # skip the value, and the `=` bash split off before it
        if [[ ${COMP_WORDS[i + 1]} == = ]]; then ((i += 3)); else ((i += 2)); fi
        continue
      fi
    else
      command=$word
      break
    fi
    ((i++))
  done
  local mode=run opts=$run_opts
  case $command in
    plan) mode=plan opts=$plan_opts ;;
    merge) mode=merge opts=$merge_opts ;;
    timeline) mode=timeline opts=$timeline_opts ;;
    report) mode=report opts=$report_opts ;;
  esac

  # the value of an option
  if [[ $prev == -* && $valued == *" $prev "* ]]; then
    case $prev in
      -j | --workers) mapfile -t COMPREPLY < <(compgen -W "auto" -- "$cur") ;;
      -o | --output) [[ $mode == timeline ]] && _shardrun_files "$cur" html || _shardrun_files "$cur" xml ;;
      --junit) _shardrun_files "$cur" xml ;;
      --summary-md) _shardrun_files "$cur" md ;;
      --runs-dir)
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        compopt -o filenames 2>/dev/null
        ;;
      --timings | --plan-in | --plan-out | --run-json) _shardrun_files "$cur" json ;;
      --kill-grace) mapfile -t COMPREPLY < <(compgen -W "5s 10s 30s 1m" -- "$cur") ;;
      --queue) mapfile -t COMPREPLY < <(compgen -W "redis://" -- "$cur") ;;
      --queue-lease | --queue-init-timeout | --queue-ttl)
        mapfile -t COMPREPLY < <(compgen -W "10s 30s 1m 5m 24h" -- "$cur")
        ;;
      *) ;;  # a number: nothing to offer
    esac
    return 0
  fi

  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
    return 0
  fi

  case $mode in
    run)
      # a suite was given already: no more arguments
      [[ -n $command ]] && return 0
      mapfile -t COMPREPLY < <(compgen -W "plan merge timeline report" -- "$cur")
      _shardrun_files "$cur" yaml yml
      ;;
    plan | report)
      # the first argument after `plan` (or `report`) that is not an option is the suite
      local j=$((i + 1)) given=
      while ((j < cword)); do
        word=${COMP_WORDS[j]}
        if [[ $word == -* ]]; then
          [[ $valued == *" $word "* ]] && ((j++))
          [[ ${COMP_WORDS[j]} == = ]] && ((j++))
        elif [[ $word != = ]]; then
          given=1
        fi
        ((j++))
      done
      [[ -z $given ]] && _shardrun_files "$cur" yaml yml
      ;;
    merge) _shardrun_files "$cur" xml ;;
    timeline)
      # run directories (or their run.json), as many as wanted
      mapfile -t COMPREPLY < <(compgen -d -- "$cur")
      compopt -o filenames 2>/dev/null
      ;;
  esac
  return 0
}

complete -F _shardrun shardrun

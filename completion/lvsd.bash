# bash completion for lvsd(8)                                    -*- shell-script -*-
# Installed as /usr/share/bash-completion/completions/lvsd. Static: the flag lists mirror the
# flag specs of src/cli/commands/*.ts (test/unit/completion.test.ts keeps them in step).

_lvsd() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion || return
    else
        COMPREPLY=()
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    local commands="run check-config plan status events drain undrain maint reload demo help version"

    # The subcommand: the first word after lvsd that is not an option.
    local cmd="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            -*) ;;
            *)
                cmd=${words[i]}
                break
                ;;
        esac
    done

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "--help -h --version -v --json" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
        fi
        return
    fi

    # Values of the options that take one.
    case $prev in
        -f | --file | --host-facts)
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            compopt -o filenames 2>/dev/null
            return
            ;;
        --ipvs)
            mapfile -t COMPREPLY < <(compgen -W "ipvsadm memory" -- "$cur")
            return
            ;;
        --addresses)
            mapfile -t COMPREPLY < <(compgen -W "ip memory" -- "$cur")
            return
            ;;
        --log-level)
            mapfile -t COMPREPLY < <(compgen -W "debug info warn error" -- "$cur")
            return
            ;;
        --socket | --ro-socket)
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            compopt -o filenames 2>/dev/null
            return
            ;;
        --state-dir)
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            compopt -o filenames 2>/dev/null
            return
            ;;
        -i | --config-id | --reason | --timeout | --interval | --count | --since | --at | --for | --tz | --cancel | --duration | --fail-after | --fail-for)
            return
            ;;
    esac

    local flags
    case $cmd in
        run) flags="-f --file -i --config-id --ipvs --socket --ro-socket --state-dir --addresses --log-level --json -h --help" ;;
        check-config) flags="-f --file -i --config-id --json --dump -q --quiet --host-facts -h --help" ;;
        plan) flags="-f --file -i --config-id --ipvs --json -h --help" ;;
        status) flags="--socket --json -w --watch --interval --count -h --help" ;;
        events) flags="--follow --since --socket --json -h --help" ;;
        drain) flags="--reason --wait --timeout --interval --socket --json -h --help" ;;
        undrain) flags="--socket --json -h --help" ;;
        maint) flags="--at --for --tz --reason -l --list --cancel --socket --json -h --help" ;;
        reload) flags="--socket --json -h --help" ;;
        demo) flags="--duration --fail-after --fail-for --json -h --help" ;;
        help)
            mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
            return
            ;;
        version) flags="--json" ;;
        *) return ;;
    esac
    mapfile -t COMPREPLY < <(compgen -W "$flags" -- "$cur")
} && complete -F _lvsd lvsd

# ex: filetype=sh
